package org.ctrranker.operators.joins;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.features.SampleFeedback;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.serde.AvroTypeInfo;

/**
 * CPU of {@link FeedbackRejoin} on one thread per parked snapshot and per labelled sample, where one user holds
 * {@code open} snapshots at once (a busy user through a 30-minute window), on the heap and on RocksDB, through
 * Flink's operator test harness (its overhead included). Not a test: run {@code main} with the test classpath
 * (arguments: the open snapshots, then the snapshots in all); figures go in the issue note.
 */
public final class FeedbackRejoinBenchmark {

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final long T0 = 1_700_000_000_000L;
    private static final long W = 30 * 60_000L;

    private FeedbackRejoinBenchmark() {}

    public static void main(String[] args) throws Exception {
        int open = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int all = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        List<SampleFeedback> snapshots = busyUser(all);
        for (int round = 0; round < 2; round++) { // the first round warms the JIT
            for (String backend : List.of("hashmap", "rocksdb")) {
                run(backend, open, snapshots, round == 1);
            }
        }
    }

    private static void run(String backend, int open, List<SampleFeedback> snapshots, boolean report) throws Exception {
        var config = JoinConfig.builder().attributionWindowMs(W).lateClickGraceMs(60_000L).build();
        try (var h = new KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, SampleFeedback, TrainingSample>(
                new KeyedCoProcessOperator<>(new FeedbackRejoin(config)), TrainingSample::getUserId,
                SampleFeedback::getUserId, Types.STRING)) {
            if (backend.equals("rocksdb")) {
                h.setStateBackend(new EmbeddedRocksDBStateBackend());
            }
            h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
            h.open();
            long parkNanos = 0;
            long labelNanos = 0;
            for (int i = 0; i < snapshots.size(); i++) {
                SampleFeedback parked = snapshots.get(i);
                long start = CPU.getCurrentThreadCpuTime();
                h.processElement2(parked, parked.impressionTimeMs);
                parkNanos += CPU.getCurrentThreadCpuTime() - start;
                if (i >= open) {
                    SampleFeedback leaving = snapshots.get(i - open);
                    TrainingSample sample = sample(leaving);
                    start = CPU.getCurrentThreadCpuTime();
                    h.processElement1(sample, sample.getLabelTimeMs());
                    labelNanos += CPU.getCurrentThreadCpuTime() - start;
                }
                if (i % 1_000 == 0 && i >= open) {
                    // behind the oldest still open: removes only what labels took before
                    h.processBothWatermarks(new Watermark(snapshots.get(i - open).impressionTimeMs - 1));
                    h.getOutput().clear();
                }
            }
            int labelled = snapshots.size() - open;
            if (report) {
                System.out.printf("%s: %d open of one user: %.1f us CPU per snapshot parked, %.1f per sample labelled%n",
                        backend, open, parkNanos / 1e3 / snapshots.size(), labelNanos / 1e3 / labelled);
            }
        }
    }

    /** One user's snapshots a second apart, each of the last 300 exposures, so each the one before plus one. */
    private static List<SampleFeedback> busyUser(int count) {
        List<SampleFeedback> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long time = T0 + i * 1_000L;
            List<Exposure> unclicks = new ArrayList<>();
            for (int j = Math.max(0, i - 300); j < i; j++) {
                unclicks.add(new Exposure("ad-" + (j * 7919 % 1000), "cat-" + j % 12, T0 + j * 1_000L));
            }
            byte[] bytes = UserFeedbackFunction.encode(new UserFeedbackSnapshot(time, List.of(), unclicks, 0L, List.of()));
            out.add(new SampleFeedback("u1", "a" + i + "-p1", time, bytes));
        }
        return out;
    }

    private static TrainingSample sample(SampleFeedback parked) {
        String auctionId = parked.impressionId.substring(0, parked.impressionId.indexOf('-'));
        TrainingSample sample = ImpressionSamples.of(Events.auction(auctionId, parked.impressionTimeMs - 100),
                Events.impression(auctionId, "ad-1", parked.impressionTimeMs), W);
        sample.setUserId(parked.userId);
        sample.setSampleType(SampleType.WINDOW_CLOSED);
        sample.setLabelTimeMs(parked.impressionTimeMs + W);
        sample.setFeedback(null);
        return sample;
    }
}
