package org.ctrranker.operators.features;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/**
 * Auction statistics of one scenario over one event-time window: KLL sketches of all bids, of the
 * bids of positives and of market prices (micros), and the exact count, mean and M2 (Welford) of
 * log1p(market price in currency units). Windows merge, so a sample can see the previous window plus
 * the current one.
 */
final class ScenarioWindow {

    private static final int FORMAT_V1 = 1;
    private static final double MICROS = 1_000_000.0;

    final long windowIndex;
    final KllDoublesSketch bids;
    final KllDoublesSketch positiveBids;
    final KllDoublesSketch marketPrices;
    long count;
    long positives;
    double logPriceMean;
    double logPriceM2;

    ScenarioWindow(long windowIndex, int k) {
        this(windowIndex, KllDoublesSketch.newHeapInstance(k), KllDoublesSketch.newHeapInstance(k),
                KllDoublesSketch.newHeapInstance(k));
    }

    private ScenarioWindow(long windowIndex, KllDoublesSketch bids, KllDoublesSketch positiveBids,
            KllDoublesSketch marketPrices) {
        this.windowIndex = windowIndex;
        this.bids = bids;
        this.positiveBids = positiveBids;
        this.marketPrices = marketPrices;
    }

    static double logPrice(long marketPriceMicros) {
        return Math.log1p(marketPriceMicros / MICROS);
    }

    /** An impression's auction: its bid and market price (once per impression). */
    void addAuction(long bidMicros, long marketPriceMicros) {
        bids.update(bidMicros);
        marketPrices.update(marketPriceMicros);
        double x = logPrice(marketPriceMicros);
        count++;
        double delta = x - logPriceMean;
        logPriceMean += delta / count;
        logPriceM2 += delta * (x - logPriceMean);
    }

    /** A positive's bid (the BCM reference is the median of these). */
    void addPositiveBid(long bidMicros) {
        positiveBids.update(bidMicros);
        positives++;
    }

    /** This window and {@code later} as one (Chan's parallel variance for the log-price moments). */
    ScenarioWindow mergedWith(ScenarioWindow later, int k) {
        ScenarioWindow m = new ScenarioWindow(later.windowIndex, k);
        for (ScenarioWindow w : new ScenarioWindow[] {this, later}) {
            m.bids.merge(w.bids);
            m.positiveBids.merge(w.positiveBids);
            m.marketPrices.merge(w.marketPrices);
            m.positives += w.positives;
            if (w.count > 0) {
                long n = m.count + w.count;
                double delta = w.logPriceMean - m.logPriceMean;
                m.logPriceMean += delta * w.count / n;
                m.logPriceM2 += w.logPriceM2 + delta * delta * m.count * (double) w.count / n;
                m.count = n;
            }
        }
        return m;
    }

    double logPriceSigma() {
        return count < 2 ? 0.0 : Math.sqrt(logPriceM2 / count);
    }

    byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(FORMAT_V1);
            out.writeLong(windowIndex);
            out.writeLong(count);
            out.writeLong(positives);
            out.writeDouble(logPriceMean);
            out.writeDouble(logPriceM2);
            for (KllDoublesSketch s : new KllDoublesSketch[] {bids, positiveBids, marketPrices}) {
                byte[] sketch = s.toByteArray();
                out.writeInt(sketch.length);
                out.write(sketch);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ScenarioWindow fromBytes(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int format = in.readUnsignedByte();
            if (format != FORMAT_V1) {
                throw new IllegalStateException("unknown scenario statistics format " + format);
            }
            long index = in.readLong();
            long count = in.readLong();
            long positives = in.readLong();
            double mean = in.readDouble();
            double m2 = in.readDouble();
            KllDoublesSketch[] sketches = new KllDoublesSketch[3];
            for (int i = 0; i < 3; i++) {
                byte[] sketch = new byte[in.readInt()];
                in.readFully(sketch);
                sketches[i] = KllDoublesSketch.heapify(Memory.wrap(sketch));
            }
            ScenarioWindow w = new ScenarioWindow(index, sketches[0], sketches[1], sketches[2]);
            w.count = count;
            w.positives = positives;
            w.logPriceMean = mean;
            w.logPriceM2 = m2;
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
