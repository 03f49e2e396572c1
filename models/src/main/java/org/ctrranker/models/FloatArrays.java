package org.ctrranker.models;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Float arrays in snapshots and checkpoints: a length, then the values, big-endian. */
final class FloatArrays {

    private FloatArrays() {}

    /** Floats per write: one buffer of 64 KB, not one the size of the array. */
    private static final int CHUNK = 16 * 1024;

    /**
     * Writes the values big-endian after their count, through a small buffer: the optimiser's moments are
     * megabytes, and an array that large per checkpoint is a humongous allocation to G1, each of which can start
     * a concurrent collection cycle that takes CPU from the scorers.
     */
    static void write(DataOutputStream out, float[] values) throws IOException {
        out.writeInt(values.length);
        ByteBuffer bytes = ByteBuffer.allocate(Math.min(values.length, CHUNK) * Float.BYTES);
        for (int from = 0; from < values.length; from += CHUNK) {
            int n = Math.min(CHUNK, values.length - from);
            bytes.clear();
            bytes.asFloatBuffer().put(values, from, n);
            out.write(bytes.array(), 0, n * Float.BYTES);
        }
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
