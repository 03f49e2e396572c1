package org.ctrranker.operators.serde;

import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A byte array written as its difference from another (its base): runs copied from the base and literal
 * bytes. For state that keeps many near-equal values, such as a user's feedback snapshots a few impressions
 * apart, each of them the whole history with one exposure more. The delta carries the checksum of the bytes it
 * makes, so applying it to any base other than its own fails instead of yielding other bytes.
 *
 * <p>Layout: {@link #MARKER}, a format byte, the chain depth (a byte, for the keeper's bound on how many deltas a
 * read applies), the target's length (varint), its CRC-32C (4 bytes), then operations until the target is made:
 * a varint {@code length << 1 | 1} and a varint base offset (a copy), or {@code length << 1} and that many bytes.
 * The marker is never the first byte of Avro's single-object encoding (0xC3), so a keeper tells deltas from
 * values stored whole by their first byte.
 *
 * <p>An instance keeps its match table between calls and is not thread-safe: one per operator instance.
 */
public final class ByteDelta {

    public static final byte MARKER = 0x00;
    private static final byte FORMAT = 0x01;
    /** Shorter runs cost more as a copy (two varints) than as literals. */
    private static final int MIN_MATCH = 8;

    private int[] table = new int[0];

    /** Whether {@code bytes} is a delta of this format rather than a value stored whole. */
    public static boolean isDelta(byte[] bytes) {
        return bytes != null && bytes.length > 2 && bytes[0] == MARKER && bytes[1] == FORMAT;
    }

    /** The chain depth the delta was written with: its base's depth plus one. */
    public static int depth(byte[] delta) {
        return delta[2] & 0xFF;
    }

    /** {@code target} as its difference from {@code base}, at {@code depth} (1 to 255) in its keeper's chain. */
    public byte[] encode(byte[] base, byte[] target, int depth) {
        if (depth < 1 || depth > 255) {
            throw new IllegalArgumentException("chain depth " + depth + " outside 1..255");
        }
        Output out = new Output(64 + target.length / 8);
        out.write(MARKER);
        out.write(FORMAT);
        out.write((byte) depth);
        out.varint(target.length);
        out.int32(checksum(target, target.length));
        int mask = indexBase(base);
        int literalStart = 0;
        int expected = 0; // where the base continues after the last copy: near-equal values stay aligned
        int p = 0;
        while (p + MIN_MATCH <= target.length) {
            int candidate = matches(base, expected, target, p) ? expected
                    : table[hash(target, p) & mask] - 1;
            if (candidate < 0 || !matches(base, candidate, target, p)) {
                p++;
                continue;
            }
            int start = p;
            while (start > literalStart && candidate > 0 && base[candidate - 1] == target[start - 1]) {
                start--;
                candidate--;
            }
            int length = Arrays.mismatch(base, candidate, base.length, target, start, target.length);
            length = length < 0 ? Math.min(base.length - candidate, target.length - start) : length;
            out.literal(target, literalStart, start);
            out.varint((long) length << 1 | 1);
            out.varint(candidate);
            p = start + length;
            literalStart = p;
            expected = candidate + length;
        }
        out.literal(target, literalStart, target.length);
        return out.toArray();
    }

    /** The bytes {@code delta} makes from {@code base}; fails if it is not this format or not {@code base}'s. */
    public static byte[] apply(byte[] base, byte[] delta) {
        if (!isDelta(delta)) {
            throw new IllegalArgumentException("not a byte delta (first byte " + (delta.length > 0 ? delta[0] : -1) + ")");
        }
        int[] at = {3};
        long length = readVarint(delta, at);
        int expectedChecksum = (delta[at[0]] & 0xFF) << 24 | (delta[at[0] + 1] & 0xFF) << 16
                | (delta[at[0] + 2] & 0xFF) << 8 | (delta[at[0] + 3] & 0xFF);
        at[0] += 4;
        // Every operation takes at least two bytes and makes at most the base's or the delta's length: a corrupted
        // length fails here instead of asking for a huge array before the checksum could fail.
        long longest = ((long) delta.length / 2 + 1) * Math.max(base.length, delta.length);
        if (length > longest) {
            throw new IllegalStateException("byte delta claims " + length + " bytes, more than its " + delta.length
                    + " bytes can make from a base of " + base.length);
        }
        byte[] target = new byte[Math.toIntExact(length)];
        int written = 0;
        try {
            while (at[0] < delta.length) {
                long op = readVarint(delta, at);
                int run = Math.toIntExact(op >>> 1);
                if ((op & 1) != 0) {
                    int from = Math.toIntExact(readVarint(delta, at));
                    System.arraycopy(base, from, target, written, run);
                } else {
                    System.arraycopy(delta, at[0], target, written, run);
                    at[0] += run;
                }
                written += run;
            }
        } catch (IndexOutOfBoundsException | ArithmeticException e) {
            throw new IllegalStateException("byte delta does not fit its base (" + base.length + " bytes)", e);
        }
        if (written != target.length || checksum(target, written) != expectedChecksum) {
            throw new IllegalStateException("byte delta applied to a base not its own: checksum or length differs");
        }
        return target;
    }

    /** Indexes positions of {@code base} by their next {@link #MIN_MATCH} bytes; returns the table's mask. */
    private int indexBase(byte[] base) {
        int size = Integer.highestOneBit(Math.max(64, base.length / 2 - 1)) << 1;
        if (table.length < size) {
            table = new int[size];
        } else {
            Arrays.fill(table, 0, size, 0);
        }
        int mask = size - 1;
        // every fourth position: a match of MIN_MATCH + 3 bytes or more is still found, a few bytes in, and
        // extended back to its start
        for (int i = 0; i + MIN_MATCH <= base.length; i += 4) {
            table[hash(base, i) & mask] = i + 1;
        }
        return mask;
    }

    private static boolean matches(byte[] base, int from, byte[] target, int at) {
        return from >= 0 && from + MIN_MATCH <= base.length
                && Arrays.equals(base, from, from + MIN_MATCH, target, at, at + MIN_MATCH);
    }

    private static int hash(byte[] b, int i) {
        long v = (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24
                | (b[i + 4] & 0xFFL) << 32 | (b[i + 5] & 0xFFL) << 40 | (b[i + 6] & 0xFFL) << 48
                | (b[i + 7] & 0xFFL) << 56;
        return (int) ((v * 0x9E3779B97F4A7C15L) >>> 40);
    }

    private static int checksum(byte[] b, int length) {
        CRC32C crc = new CRC32C();
        crc.update(b, 0, length);
        return (int) crc.getValue();
    }

    private static long readVarint(byte[] b, int[] at) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte next = b[at[0]++];
            value |= (long) (next & 0x7F) << shift;
            if (next >= 0) {
                return value;
            }
        }
        throw new IllegalStateException("byte delta holds a varint longer than 10 bytes");
    }

    private static final class Output {
        private byte[] bytes;
        private int size;

        Output(int capacity) {
            bytes = new byte[capacity];
        }

        void write(byte b) {
            if (size == bytes.length) {
                bytes = Arrays.copyOf(bytes, bytes.length * 2);
            }
            bytes[size++] = b;
        }

        void varint(long value) {
            while ((value & ~0x7FL) != 0) {
                write((byte) (value & 0x7F | 0x80));
                value >>>= 7;
            }
            write((byte) value);
        }

        void int32(int value) {
            write((byte) (value >>> 24));
            write((byte) (value >>> 16));
            write((byte) (value >>> 8));
            write((byte) value);
        }

        void literal(byte[] from, int start, int end) {
            if (end <= start) {
                return;
            }
            varint((long) (end - start) << 1);
            if (size + end - start > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + end - start));
            }
            System.arraycopy(from, start, bytes, size, end - start);
            size += end - start;
        }

        byte[] toArray() {
            return Arrays.copyOf(bytes, size);
        }
    }
}
