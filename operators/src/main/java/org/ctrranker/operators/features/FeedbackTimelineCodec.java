package org.ctrranker.operators.features;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Compact bytes of a {@link FeedbackTimeline} for Flink keyed state. A format byte leads so that a later
 * layout can read this one. Times are delta-encoded varints (exposures are time-ordered), settled
 * exposures carry no impression id: a full user (L = 30 clicks, every slot filled) stays a few KB.
 */
public final class FeedbackTimelineCodec {

    private static final int FORMAT_V1 = 1;
    private static final int HAS_ID = 1;
    private static final int CLICKED = 2;

    private FeedbackTimelineCodec() {}

    public static byte[] encode(FeedbackTimeline t) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(FORMAT_V1);
            writeLong(out, t.prunedHorizonMs);
            writeLong(out, t.lastEventTimeMs);
            writeLong(out, t.idleTimerMs);
            out.writeLong(t.mirroredHash);
            writeLong(out, t.entries.size());
            long previous = 0;
            for (FeedbackTimeline.Entry e : t.entries) {
                boolean clicked = e.clickTimeMs != FeedbackTimeline.NO_CLICK;
                out.writeByte((e.impressionId != null ? HAS_ID : 0) | (clicked ? CLICKED : 0));
                if (e.impressionId != null) {
                    out.writeUTF(e.impressionId);
                }
                out.writeUTF(e.adId);
                out.writeUTF(e.categoryId);
                writeLong(out, e.timeMs - previous);
                previous = e.timeMs;
                if (clicked) {
                    writeLong(out, e.clickTimeMs - e.timeMs);
                }
            }
            writeLong(out, t.unmatchedClicks.size());
            for (var click : t.unmatchedClicks.entrySet()) {
                out.writeUTF(click.getKey());
                writeLong(out, click.getValue().size());
                for (long time : click.getValue()) {
                    writeLong(out, time);
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static FeedbackTimeline decode(byte[] bytes, FeedbackConfig config) {
        FeedbackTimeline t = new FeedbackTimeline(config);
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int format = in.readUnsignedByte();
            if (format != FORMAT_V1) {
                throw new IllegalStateException("unknown feedback state format " + format);
            }
            t.prunedHorizonMs = readLong(in);
            t.lastEventTimeMs = readLong(in);
            t.idleTimerMs = readLong(in);
            t.mirroredHash = in.readLong();
            long n = readLong(in);
            long previous = 0;
            for (long i = 0; i < n; i++) {
                int flags = in.readUnsignedByte();
                String id = (flags & HAS_ID) != 0 ? in.readUTF() : null;
                String ad = in.readUTF();
                String category = in.readUTF();
                long time = previous + readLong(in);
                previous = time;
                long click = (flags & CLICKED) != 0 ? time + readLong(in) : FeedbackTimeline.NO_CLICK;
                t.entries.add(new FeedbackTimeline.Entry(id, ad, category, time, click));
            }
            long unmatched = readLong(in);
            for (long i = 0; i < unmatched; i++) {
                java.util.TreeSet<Long> times = new java.util.TreeSet<>();
                String id = in.readUTF();
                for (long k = readLong(in); k > 0; k--) {
                    times.add(readLong(in));
                }
                t.unmatchedClicks.put(id, times);
            }
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Zig-zag varint: small magnitudes of either sign take one or two bytes. */
    private static void writeLong(DataOutputStream out, long v) throws IOException {
        long z = (v << 1) ^ (v >> 63);
        while ((z & ~0x7FL) != 0) {
            out.writeByte((int) ((z & 0x7F) | 0x80));
            z >>>= 7;
        }
        out.writeByte((int) z);
    }

    private static long readLong(DataInputStream in) throws IOException {
        long z = 0;
        int shift = 0;
        int b;
        do {
            b = in.readUnsignedByte();
            z |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return (z >>> 1) ^ -(z & 1);
    }
}
