package org.ctrranker.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Arrays in snapshots (format v4) and checkpoints (format v3) as the rows that differ from a base, when that is
 * smaller than all the values. Why: a hashed embedding table is sized for the ids to come, and Adam leaves a row
 * it has never had a gradient for exactly as initialised (its moments stay zero), so a table with few ids seen has
 * few changed rows. The base is the table's initial draw ({@link InitialTable}) or zeros (the wide weights, the
 * optimisers' moments and sums).
 *
 * <p>Layout: a tag byte, then either {@link FloatArrays}' dense layout ({@value #ALL}), or ({@value #ROWS}) the
 * value count, the row size, the count of changed rows, and each changed row's index (ascending) and values.
 */
final class ChangedRows {

    static final byte ALL = 0;
    static final byte ROWS = 1;
    private static final int CHUNK = FloatArrays.CHUNK;

    private ChangedRows() {}

    /** An array's rows and how many differ from its base: what {@link #write} writes and its size in bytes. */
    record Changes(int values, int rows, int rowSize, int[] changed, FloatArrays.RowReader reader) {

        boolean sparse() {
            return (long) changed.length * (Integer.BYTES + (long) rowSize * Float.BYTES) < (long) values * Float.BYTES;
        }

        long bytes() {
            return 1 + Integer.BYTES + (sparse()
                    ? 2 * Integer.BYTES + (long) changed.length * (Integer.BYTES + (long) rowSize * Float.BYTES)
                    : (long) values * Float.BYTES);
        }
    }

    /** The rows of {@code values} that differ, bit for bit, from {@code base} (null: zeros). */
    static Changes of(NDArray values, float[] base) {
        int size = Math.toIntExact(values.size());
        int rows = FloatArrays.rows(values);
        return of(size, rows, size / rows, FloatArrays.reader(values), base);
    }

    /** The entries of {@code values} (rows of one) that differ from {@code base} (null: zeros). */
    static Changes of(float[] values, float[] base) {
        return of(values.length, values.length, 1, FloatArrays.reader(values), base);
    }

    private static Changes of(int values, int rows, int rowSize, FloatArrays.RowReader reader, float[] base) {
        if (base != null && base.length != values) {
            throw new IllegalArgumentException("a base of " + base.length + " values for an array of " + values);
        }
        int[] changed = new int[Math.min(rows, 1024)];
        int count = 0;
        int rowsPerChunk = Math.max(1, CHUNK / Math.max(1, rowSize));
        float[] chunk = new float[Math.min(rows, rowsPerChunk) * rowSize];
        for (int from = 0; from < rows; from += rowsPerChunk) {
            int n = Math.min(rowsPerChunk, rows - from);
            reader.read(from, n, chunk);
            for (int r = 0; r < n; r++) {
                if (differs(chunk, r * rowSize, base, (from + r) * rowSize, rowSize)) {
                    if (count == changed.length) {
                        changed = Arrays.copyOf(changed, Math.min(rows, 2 * count));
                    }
                    changed[count++] = from + r;
                }
            }
        }
        return new Changes(values, rows, rowSize, Arrays.copyOf(changed, count), reader);
    }

    private static boolean differs(float[] values, int at, float[] base, int baseAt, int length) {
        for (int i = 0; i < length; i++) {
            int bits = Float.floatToRawIntBits(values[at + i]);
            if (bits != (base == null ? 0 : Float.floatToRawIntBits(base[baseAt + i]))) {
                return true;
            }
        }
        return false;
    }

    /** Writes the array as {@code changes} found it: its changed rows, or all its values when that is smaller. */
    static void write(DataOutputStream out, Changes changes) throws IOException {
        if (!changes.sparse()) {
            out.writeByte(ALL);
            FloatArrays.writeRows(out, changes.values(), changes.rows(), changes.rowSize(), changes.reader());
            return;
        }
        out.writeByte(ROWS);
        out.writeInt(changes.values());
        out.writeInt(changes.rowSize());
        int[] changed = changes.changed();
        out.writeInt(changed.length);
        int rowsPerChunk = Math.max(1, CHUNK / Math.max(1, changes.rowSize()));
        float[] chunk = new float[Math.min(changes.rows(), rowsPerChunk) * changes.rowSize()];
        byte[] row = new byte[changes.rowSize() * Float.BYTES];
        FloatBuffer rowFloats = ByteBuffer.wrap(row).asFloatBuffer();
        int next = 0;
        while (next < changed.length) {
            // one copy of the chunk holding the next changed row serves every changed row in it
            int from = changed[next];
            int n = Math.min(rowsPerChunk, changes.rows() - from);
            changes.reader().read(from, n, chunk);
            while (next < changed.length && changed[next] < from + n) {
                out.writeInt(changed[next]);
                rowFloats.clear();
                rowFloats.put(chunk, (changed[next] - from) * changes.rowSize(), changes.rowSize());
                out.write(row);
                next++;
            }
        }
    }

    /** Reads what {@link #write} wrote over {@code target} (same number of values); rows not written take the base's. */
    static void readInto(DataInputStream in, float[] target, float[] base, String what) throws IOException {
        byte tag = in.readByte();
        if (tag == ALL) {
            FloatArrays.readInto(in, target, what);
            return;
        }
        Header h = header(in, tag, target.length, ANY_ROWS, what);
        if (base == null) {
            Arrays.fill(target, 0f);
        } else {
            System.arraycopy(base, 0, target, 0, target.length);
        }
        RowIndices indices = new RowIndices(in, h, what);
        for (int i = 0; i < h.changed; i++) {
            int row = indices.next();
            for (int j = 0; j < h.rowSize; j++) {
                target[row * h.rowSize + j] = in.readFloat();
            }
        }
    }

    /**
     * Reads what {@link #write} wrote into the native array {@code target}: built natively a slice of rows at a
     * time (the base's values, then the changed rows over them), joined and copied over the target in one operation,
     * as {@link FloatArrays#readInto(DataInputStream, NDArray, String)} does and for the same reason.
     */
    static void readInto(DataInputStream in, NDArray target, float[] base, String what) throws IOException {
        byte tag = in.readByte();
        if (tag == ALL) {
            FloatArrays.readInto(in, target, what);
            return;
        }
        Header h = header(in, tag, Math.toIntExact(target.size()), FloatArrays.rows(target), what);
        int rows = h.rows;
        RowIndices indices = new RowIndices(in, h, what);
        int rowsPerChunk = Math.max(1, CHUNK / Math.max(1, h.rowSize));
        int pending = h.changed > 0 ? indices.next() : Integer.MAX_VALUE;
        try (NDManager scope = target.getManager().newSubManager()) {
            NDList parts = new NDList();
            // scope.create copies the values: one Java array serves every full slice
            float[] full = new float[Math.min(rows, rowsPerChunk) * h.rowSize];
            for (int from = 0; from < rows; from += rowsPerChunk) {
                int n = Math.min(rowsPerChunk, rows - from);
                float[] chunk = n * h.rowSize == full.length ? full : new float[n * h.rowSize];
                if (base != null) {
                    System.arraycopy(base, from * h.rowSize, chunk, 0, chunk.length);
                } else {
                    Arrays.fill(chunk, 0f);
                }
                while (pending < from + n) {
                    for (int j = 0; j < h.rowSize; j++) {
                        chunk[(pending - from) * h.rowSize + j] = in.readFloat();
                    }
                    pending = indices.hasNext() ? indices.next() : Integer.MAX_VALUE;
                }
                parts.add(scope.create(chunk));
            }
            NDArray joined = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts);
            joined.reshape(target.getShape()).copyTo(target);
        }
    }

    /**
     * Reads past one array of {@code values} values, checking its structure; returns its tag. Lets a restore find a
     * truncated or malformed snapshot before it changes anything.
     */
    static byte skip(DataInputStream in, int values, int rows, String what) throws IOException {
        byte tag = in.readByte();
        if (tag == ALL) {
            int n = in.readInt();
            if (n != values) {
                throw new IllegalArgumentException(what + " has " + n + " values, this model " + values);
            }
            skipFully(in, (long) n * Float.BYTES);
            return tag;
        }
        Header h = header(in, tag, values, rows, what);
        RowIndices indices = new RowIndices(in, h, what);
        for (int i = 0; i < h.changed; i++) {
            indices.next();
            skipFully(in, (long) h.rowSize * Float.BYTES);
        }
        return tag;
    }

    private static void skipFully(DataInputStream in, long bytes) throws IOException {
        if (in.skip(bytes) != bytes) {
            throw new EOFException("ends inside an array");
        }
    }

    private record Header(int rowSize, int rows, int changed) {}

    /** A Java array has no shape: any row size that divides its length reads back. */
    private static final int ANY_ROWS = -1;

    private static Header header(DataInputStream in, byte tag, int values, int expectedRows, String what) throws IOException {
        if (tag != ROWS) {
            throw new IllegalArgumentException(what + " is encoded with tag " + tag + ", which this build does not know");
        }
        int n = in.readInt();
        if (n != values) {
            throw new IllegalArgumentException(what + " has " + n + " values, this model " + values);
        }
        int rowSize = in.readInt();
        int changed = in.readInt();
        int rows = expectedRows != ANY_ROWS ? expectedRows : rowSize > 0 ? values / rowSize : 0;
        if (rowSize < 0 || (long) rowSize * rows != values || changed < 0 || changed > rows) {
            throw new IllegalArgumentException(what + ": " + changed + " changed rows of " + rowSize
                    + " values do not fit its " + rows + " rows of " + values + " values");
        }
        return new Header(rowSize, rows, changed);
    }

    /** Changed rows' indices as they are read: each within the array and above the one before. */
    private static final class RowIndices {
        private final DataInputStream in;
        private final Header header;
        private final String what;
        private int read;
        private int last = -1;

        RowIndices(DataInputStream in, Header header, String what) {
            this.in = in;
            this.header = header;
            this.what = what;
        }

        boolean hasNext() {
            return read < header.changed;
        }

        int next() throws IOException {
            int row = in.readInt();
            if (row <= last || row >= header.rows) {
                throw new IllegalArgumentException(what + ": changed row " + row + " after row " + last + " of "
                        + header.rows);
            }
            last = row;
            read++;
            return row;
        }
    }
}
