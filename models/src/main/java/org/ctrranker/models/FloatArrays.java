package org.ctrranker.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Float arrays in snapshots and checkpoints: a length, then the values, big-endian. Java arrays and native
 * (NDArray) ones alike go through buffers of {@value #CHUNK} floats: a model's arrays are megabytes, and one
 * Java array that large per snapshot or checkpoint is a humongous allocation to G1 (a young collection, often a
 * concurrent cycle, each time), which pauses the scorers that share the JVM.
 */
final class FloatArrays {

    private FloatArrays() {}

    /** Floats per write: one buffer of 64 KB, not one the size of the array. */
    static final int CHUNK = 16 * 1024;

    /**
     * Writes the values big-endian after their count, through a small buffer: the optimiser's moments are
     * megabytes, and an array that large per checkpoint is a humongous allocation to G1, each of which can start
     * a concurrent collection cycle that takes CPU from the scorers.
     */
    static void write(DataOutputStream out, float[] values) throws IOException {
        writeRows(out, values.length, values.length, 1, reader(values));
    }

    /**
     * Writes a native array's values as {@link #write(DataOutputStream, float[])} writes a Java array's (row-major),
     * copying them out a slice of rows at a time where {@link NDArray#toFloatArray()} would copy them all at once.
     */
    static void write(DataOutputStream out, NDArray values) throws IOException {
        writeRows(out, Math.toIntExact(values.size()), rows(values), Math.toIntExact(values.size()) / rows(values),
                reader(values));
    }

    /** The layout of {@link #write} for an array of {@code rows} rows read through {@code reader} a slice at a time. */
    static void writeRows(DataOutputStream out, int values, int rows, int rowSize, RowReader reader) throws IOException {
        out.writeInt(values);
        int rowsPerChunk = Math.max(1, CHUNK / Math.max(1, rowSize));
        float[] chunk = new float[Math.min(rows, rowsPerChunk) * rowSize];
        ByteBuffer bytes = ByteBuffer.allocate(chunk.length * Float.BYTES);
        for (int from = 0; from < rows; from += rowsPerChunk) {
            int n = Math.min(rowsPerChunk, rows - from);
            reader.read(from, n, chunk);
            bytes.clear();
            bytes.asFloatBuffer().put(chunk, 0, n * rowSize);
            out.write(bytes.array(), 0, n * rowSize * Float.BYTES);
        }
    }

    /** Copies rows [from, from + count) of an array, row-major, into the start of {@code into}. */
    interface RowReader {
        void read(int from, int count, float[] into);
    }

    /** Rows of a native array: its first dimension (one row for a scalar or an empty array). */
    static int rows(NDArray values) {
        Shape shape = values.getShape();
        return shape.dimension() == 0 || values.size() == 0 ? 1 : Math.toIntExact(shape.get(0));
    }

    static RowReader reader(float[] values) {
        return (from, count, into) -> System.arraycopy(values, from, into, 0, count);
    }

    static RowReader reader(NDArray values) {
        int size = Math.toIntExact(values.size());
        int rowSize = size / rows(values);
        if (values.getShape().dimension() == 0 || size == 0) {
            return (from, count, into) -> System.arraycopy(values.toFloatArray(), 0, into, 0, size);
        }
        return (from, count, into) -> {
            try (NDArray part = values.get(new NDIndex("{}:{}", from, from + count))) {
                // the engine's bytes in its own order, no float[] of the part's own in between
                part.toByteBuffer().asFloatBuffer().get(into, 0, count * rowSize);
            }
        };
    }

    /**
     * Reads what {@link #write} wrote over {@code target}, which must have as many values; {@code what} names the
     * array when it has not.
     */
    static void readInto(DataInputStream in, float[] target, String what) throws IOException {
        readLength(in, target.length, what);
        readInto(in, target);
    }

    private static void readInto(DataInputStream in, float[] target) throws IOException {
        byte[] raw = new byte[Math.min(target.length, CHUNK) * Float.BYTES];
        for (int from = 0; from < target.length; from += CHUNK) {
            int n = Math.min(CHUNK, target.length - from);
            in.readFully(raw, 0, n * Float.BYTES);
            ByteBuffer.wrap(raw, 0, n * Float.BYTES).asFloatBuffer().get(target, from, n);
        }
    }

    /**
     * Reads what {@link #write} wrote into the native array {@code target} (same number of values). The values go
     * native a slice at a time (the Java array is reused), are joined there and copied over the target in one
     * operation: a parameter is a leaf that requires a gradient, and where PyTorch's grad mode is on (in a Flink
     * task's thread) no indexed write may change one in place.
     */
    static void readInto(DataInputStream in, NDArray target, String what) throws IOException {
        long size = readLength(in, target.size(), what);
        if (size == 0) {
            return;
        }
        float[] chunk = new float[(int) Math.min(size, CHUNK)];
        try (NDManager scope = target.getManager().newSubManager()) {
            NDList parts = new NDList();
            for (long from = 0; from < size; from += CHUNK) {
                float[] values = size - from >= CHUNK ? chunk : new float[(int) (size - from)];
                readInto(in, values);
                parts.add(scope.create(values));
            }
            NDArray joined = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts);
            joined.reshape(target.getShape()).copyTo(target);
        }
    }

    private static long readLength(DataInputStream in, long expected, String what) throws IOException {
        int n = in.readInt();
        if (n != expected) {
            throw new IllegalArgumentException(what + " has " + n + " values, this model " + expected);
        }
        return n;
    }
}
