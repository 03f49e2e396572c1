package org.ctrranker.models;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Float arrays in snapshots and checkpoints: a length, then the values, big-endian. */
final class FloatArrays {

    private FloatArrays() {}

    static void write(DataOutputStream out, float[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES);
        bytes.asFloatBuffer().put(values);
        out.writeInt(values.length);
        out.write(bytes.array());
    }

    /** Reads what {@link #write} wrote; {@code what} names the array when its length is not {@code expected}. */
    static float[] read(DataInputStream in, long expected, String what) throws IOException {
        int n = in.readInt();
        if (n != expected) {
            throw new IllegalArgumentException(what + " has " + n + " values, this model " + expected);
        }
        byte[] raw = new byte[n * Float.BYTES];
        in.readFully(raw);
        float[] values = new float[n];
        ByteBuffer.wrap(raw).asFloatBuffer().get(values);
        return values;
    }
}
