package org.ctrranker.operators.features;

import static org.ctrranker.operators.features.FeedbackEvents.click;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;

/**
 * Events per second of the feature operators on one thread, driven through Flink's operator test harness (heap
 * state unless said, timers, watermarks every 1,000 events; harness overhead included, so a lower bound). Not a
 * test: run {@code main} with the test classpath (arguments: users, impressions, and {@code items} or
 * {@code feedback} for the item statistics or the user feedback alone); figures go in the issue note. Besides wall
 * time it reports events per CPU-second of the driving thread, which a busy shared machine distorts far less, and
 * for the user feedback the bytes that thread allocated per event.
 */
public final class FeatureOperatorsBenchmark {

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final com.sun.management.ThreadMXBean ALLOCATED = (com.sun.management.ThreadMXBean) CPU;

    private FeatureOperatorsBenchmark() {}

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int impressions = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        String only = args.length > 2 ? args[2] : "";
        for (int round = 0; round < 2; round++) { // the first round warms the JIT
            if (only.isEmpty() || only.equals("feedback")) {
                userFeedback(users, impressions);
            }
            if (only.isEmpty()) {
                auctionStatistics(impressions);
            }
            if (only.isEmpty() || only.equals("items")) {
                itemStatistics(50, impressions / 2, false);
                itemStatistics(50, impressions / 2, true);
            }
        }
    }

    /**
     * Busy ads: each gets an impression about every second of event time (5% clicked), so once the run is longer
     * than the history ({@code ctr.features.item.history-ms}, 20 min) every ad holds a full one.
     */
    private static void itemStatistics(int ads, int impressions, boolean rocksDb) throws Exception {
        Random random = new Random(3);
        List<TrainingSample> samples = new ArrayList<>(impressions);
        List<AdClick> clicks = new ArrayList<>();
        long t = 1_700_000_000_000L;
        long step = 1_000L / ads;
        for (int i = 0; i < impressions; i++) {
            t += step;
            String id = "imp-" + i;
            String ad = "ad-" + random.nextInt(ads);
            samples.add(FeedbackEvents.impression("u", id, ad, t));
            if (random.nextInt(100) < 5) {
                clicks.add(AdClick.newBuilder().setClickId("c-" + id).setImpressionId(id).setUserId("u").setAdId(ad)
                        .setClickTimeMs(t + 2_000).build());
            }
        }
        var backend = rocksDb ? new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend() : null;
        try (var h = ItemStatisticsFunctionTest.harness(ItemStatisticsConfig.defaults(), backend)) {
            long start = System.nanoTime();
            long cpuStart = CPU.getCurrentThreadCpuTime();
            int events = feed(h, samples, clicks);
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (CPU.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            System.out.printf("item statistics (%s): %d impressions + %d clicks over %d ads, %.0f s of event time, in"
                    + " %.1f s = %.0f events/s; %.0f events per CPU-second%n", rocksDb ? "RocksDB" : "heap",
                    samples.size(), events - samples.size(), ads, (t - 1_700_000_000_000L) / 1e3, seconds, events / seconds, events / cpuSeconds);
        }
    }

    private static void userFeedback(int users, int impressions) throws Exception {
        Random random = new Random(1);
        List<TrainingSample> samples = new ArrayList<>(impressions);
        List<AdClick> clicks = new ArrayList<>();
        long t = 1_700_000_000_000L;
        for (int i = 0; i < impressions; i++) {
            t += random.nextInt(3);
            String user = "user-" + random.nextInt(users);
            String id = "imp-" + i;
            samples.add(FeedbackEvents.impression(user, id, "ad-" + random.nextInt(10_000), t));
            if (random.nextInt(100) < 5) {
                clicks.add(click(user, id, t + 2_000));
            }
        }
        FeedbackConfig config = FeedbackConfig.builder().attributionWindowMs(60_000).build();
        try (var h = UserFeedbackFunctionTest.harness(config)) {
            long start = System.nanoTime();
            long cpuStart = CPU.getCurrentThreadCpuTime();
            long allocatedStart = ALLOCATED.getCurrentThreadAllocatedBytes();
            int events = feed(h, samples, clicks);
            h.processBothWatermarks(new Watermark(t + 120_000));
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (CPU.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            long allocated = ALLOCATED.getCurrentThreadAllocatedBytes() - allocatedStart;
            System.out.printf("user feedback: %d impressions + %d clicks over %d users in %.1f s = %.0f events/s;"
                    + " %.0f events per CPU-second; %.0f bytes allocated per event (harness included)%n", samples.size(),
                    events - samples.size(), users, seconds, events / seconds, events / cpuSeconds, (double) allocated / events);
        }
    }

    /**
     * The impressions in order, each followed by the clicks due by its time, a watermark 1 s behind every 1,000
     * events; the events fed.
     */
    private static int feed(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h,
            List<TrainingSample> samples, List<AdClick> clicks) throws Exception {
        int c = 0;
        int events = 0;
        for (TrainingSample s : samples) {
            h.processElement1(s, s.getImpressionTimeMs());
            while (c < clicks.size() && clicks.get(c).getClickTimeMs() <= s.getImpressionTimeMs()) {
                h.processElement2(clicks.get(c), clicks.get(c).getClickTimeMs());
                c++;
                events++;
            }
            if (++events % 1_000 == 0) {
                h.processBothWatermarks(new Watermark(s.getImpressionTimeMs() - 1_000));
                h.getOutput().clear();
            }
        }
        return events;
    }

    private static void auctionStatistics(int samples) throws Exception {
        Random random = new Random(2);
        AieConfig config = AieConfig.defaults();
        try (var h = AuctionStatisticsFunctionTest.harness(config)) {
            long t = 1_700_000_000_000L;
            List<TrainingSample> batch = new ArrayList<>(samples);
            for (int i = 0; i < samples; i++) {
                t += random.nextInt(3);
                long bid = 100_000 + random.nextInt(3_000_000);
                batch.add(FeedbackEvents.sample("u", "s" + i, "ad", t, "slot-" + random.nextInt(50), 1 + random.nextInt(3),
                        bid, (long) (bid * random.nextDouble()), random.nextInt(100) < 3 ? 1 : 0));
            }
            long start = System.nanoTime();
            long cpuStart = CPU.getCurrentThreadCpuTime();
            int n = 0;
            for (TrainingSample s : batch) {
                h.processElement(s, s.getLabelTimeMs());
                if (++n % 1_000 == 0) {
                    h.processWatermark(new Watermark(s.getLabelTimeMs() - 1_000));
                    h.getOutput().clear();
                }
            }
            h.processWatermark(new Watermark(t + 1));
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (CPU.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            System.out.printf("auction statistics: %d labelled samples over 150 scenarios in %.1f s = %.0f samples/s;"
                    + " %.0f samples per CPU-second%n", samples, seconds, samples / seconds, samples / cpuSeconds);
        }
    }
}
