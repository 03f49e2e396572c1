package org.ctrranker.operators.features;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Compact bytes of a {@link FeedbackTimeline} for Flink keyed state. A format byte leads so that a later
 * layout can read this one. Times are delta-encoded varints (exposures are time-ordered), settled
 * exposures carry no impression id: a full user (L = 30 clicks, every slot filled) stays a few KB.
 *
 * <p>Strings are {@code DataOutput.writeUTF}'s (a two-byte length, then modified UTF-8), read and written
 * on a plain array: the feedback stage decodes and encodes a user's state at every event, timer included,
 * and the stream classes' per-byte calls and buffer growth were two thirds of that stage's Java samples (bench e2e,
 * profiled).
 */
public final class FeedbackTimelineCodec {

    private static final int FORMAT_V1 = 1;
    /** V1 and the count of clicks pruned from the entries. */
    private static final int FORMAT_V2 = 2;
    private static final int HAS_ID = 1;
    private static final int CLICKED = 2;
    /** Room for one entry's flags, times and short ids, so a buffer sized by entries rarely grows. */
    private static final int ENTRY_BYTES_ESTIMATE = 48;

    private FeedbackTimelineCodec() {}

    public static byte[] encode(FeedbackTimeline t) {
        Writer out = new Writer(32 + ENTRY_BYTES_ESTIMATE * (t.entries.size() + t.unmatchedClicks.size()));
        out.writeByte(FORMAT_V2);
        out.writeVarLong(t.prunedHorizonMs);
        out.writeVarLong(t.lastEventTimeMs);
        out.writeVarLong(t.idleTimerMs);
        out.writeFixedLong(t.mirroredHash);
        out.writeVarLong(t.prunedClicks);
        out.writeVarLong(t.entries.size());
        long previous = 0;
        for (FeedbackTimeline.Entry e : t.entries) {
            boolean clicked = e.clickTimeMs != FeedbackTimeline.NO_CLICK;
            out.writeByte((e.impressionId != null ? HAS_ID : 0) | (clicked ? CLICKED : 0));
            if (e.impressionId != null) {
                out.writeUtf(e.impressionId);
            }
            out.writeUtf(e.adId);
            out.writeUtf(e.categoryId);
            out.writeVarLong(e.timeMs - previous);
            previous = e.timeMs;
            if (clicked) {
                out.writeVarLong(e.clickTimeMs - e.timeMs);
            }
        }
        out.writeVarLong(t.unmatchedClicks.size());
        for (var click : t.unmatchedClicks.entrySet()) {
            out.writeUtf(click.getKey());
            out.writeVarLong(click.getValue().size());
            for (long time : click.getValue()) {
                out.writeVarLong(time);
            }
        }
        return out.toByteArray();
    }

    public static FeedbackTimeline decode(byte[] bytes, FeedbackConfig config) {
        FeedbackTimeline t = new FeedbackTimeline(config);
        Reader in = new Reader(bytes);
        int format = in.readByte();
        if (format != FORMAT_V1 && format != FORMAT_V2) {
            throw new IllegalStateException("unknown feedback state format " + format);
        }
        t.prunedHorizonMs = in.readVarLong();
        t.lastEventTimeMs = in.readVarLong();
        t.idleTimerMs = in.readVarLong();
        t.mirroredHash = in.readFixedLong();
        // state written before the count: the clicks pruned until then are not counted
        t.prunedClicks = format == FORMAT_V1 ? 0 : in.readVarLong();
        long n = in.readVarLong();
        long previous = 0;
        for (long i = 0; i < n; i++) {
            int flags = in.readByte();
            String id = (flags & HAS_ID) != 0 ? in.readUtf() : null;
            String ad = in.readUtf();
            String category = in.readUtf();
            long time = previous + in.readVarLong();
            previous = time;
            long click = (flags & CLICKED) != 0 ? time + in.readVarLong() : FeedbackTimeline.NO_CLICK;
            t.entries.add(new FeedbackTimeline.Entry(id, ad, category, time, click));
        }
        long unmatched = in.readVarLong();
        for (long i = 0; i < unmatched; i++) {
            TreeSet<Long> times = new TreeSet<>();
            String id = in.readUtf();
            for (long k = in.readVarLong(); k > 0; k--) {
                times.add(in.readVarLong());
            }
            t.unmatchedClicks.put(id, times);
        }
        return t;
    }

    private static final class Writer {
        private byte[] buf;
        private int pos;

        Writer(int capacity) {
            buf = new byte[capacity];
        }

        private void ensure(int more) {
            if (pos + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
            }
        }

        void writeByte(int b) {
            ensure(1);
            buf[pos++] = (byte) b;
        }

        /** Zig-zag varint: small magnitudes of either sign take one or two bytes. */
        void writeVarLong(long v) {
            ensure(10);
            long z = (v << 1) ^ (v >> 63);
            while ((z & ~0x7FL) != 0) {
                buf[pos++] = (byte) ((z & 0x7F) | 0x80);
                z >>>= 7;
            }
            buf[pos++] = (byte) z;
        }

        void writeFixedLong(long v) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                buf[pos++] = (byte) (v >>> shift);
            }
        }

        /** As {@code DataOutput.writeUTF}: U+0001 to U+007F in one byte, U+0000 and up to U+07FF in two, the rest in three. */
        void writeUtf(String s) {
            int chars = s.length();
            ensure(2 + 3 * chars);
            int lengthAt = pos;
            pos += 2;
            for (int i = 0; i < chars; i++) {
                char c = s.charAt(i);
                if (c >= 0x0001 && c <= 0x007F) {
                    buf[pos++] = (byte) c;
                } else if (c <= 0x07FF) {
                    buf[pos++] = (byte) (0xC0 | (c >> 6));
                    buf[pos++] = (byte) (0x80 | (c & 0x3F));
                } else {
                    buf[pos++] = (byte) (0xE0 | (c >> 12));
                    buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                    buf[pos++] = (byte) (0x80 | (c & 0x3F));
                }
            }
            int length = pos - lengthAt - 2;
            if (length > 0xFFFF) {
                throw new IllegalArgumentException("a feedback id is longer than 65,535 encoded bytes: " + s.substring(0, 64) + "...");
            }
            buf[lengthAt] = (byte) (length >>> 8);
            buf[lengthAt + 1] = (byte) length;
        }

        byte[] toByteArray() {
            return pos == buf.length ? buf : Arrays.copyOf(buf, pos);
        }
    }

    private static final class Reader {
        private final byte[] buf;
        private int pos;

        Reader(byte[] buf) {
            this.buf = buf;
        }

        int readByte() {
            return buf[pos++] & 0xFF;
        }

        long readVarLong() {
            long z = 0;
            int shift = 0;
            int b;
            do {
                b = buf[pos++] & 0xFF;
                z |= (long) (b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            return (z >>> 1) ^ -(z & 1);
        }

        long readFixedLong() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (buf[pos++] & 0xFF);
            }
            return v;
        }

        String readUtf() {
            int length = ((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF);
            int from = pos + 2;
            int end = from + length;
            for (int i = from; i < end; i++) {
                if (buf[i] <= 0) { // a multi-byte sequence (or a malformed zero byte): the JDK's decoder and its checks
                    try {
                        String s = new DataInputStream(new ByteArrayInputStream(buf, pos, length + 2)).readUTF();
                        pos = end;
                        return s;
                    } catch (IOException e) {
                        throw new UncheckedIOException("corrupt feedback state at byte " + pos, e);
                    }
                }
            }
            pos = end;
            return new String(buf, from, length, StandardCharsets.ISO_8859_1);
        }
    }
}
