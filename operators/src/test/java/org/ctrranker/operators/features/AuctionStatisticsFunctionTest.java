package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.ctrranker.operators.features.FeedbackEvents.sample;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.junit.jupiter.api.Test;

/** AM2 targets and BCM weights from the statistics of earlier samples only, through the real operator. */
class AuctionStatisticsFunctionTest {

    private static final AieConfig SMALL = AieConfig.builder().minSamples(4).minPositives(3).windowMs(1_000)
            .publishIntervalMs(100).build();

    @Test
    void theMarketPriceTargetUsesOnlySamplesLabelledBeforeIt() throws Exception {
        try (var h = harness(SMALL)) {
            long[] prices = {1_000_000, 2_000_000, 3_000_000, 5_000_000};
            for (int i = 0; i < prices.length; i++) {
                h.processElement(sample("u", "s" + i, "ad", 10 + i, "slot", 1, 9_000_000, prices[i], 0), 10 + i);
            }
            // two samples at the same label time: both see the four earlier ones, neither sees the other
            h.processElement(sample("u", "s4", "ad", 20, "slot", 1, 9_000_000, 8_000_000, 0), 20);
            h.processElement(sample("u", "s5", "ad", 20, "slot", 1, 9_000_000, 0, 0), 20);
            h.processWatermark(new Watermark(20));

            Map<String, TrainingSample> out = byId(h.extractOutputValues());
            for (int i = 0; i < 4; i++) {
                assertThat(out.get("s" + i).getMarketPriceNorm()).as("before min samples").isNull();
            }
            double[] logs = {Math.log1p(1), Math.log1p(2), Math.log1p(3), Math.log1p(5)};
            double mu = (logs[0] + logs[1] + logs[2] + logs[3]) / 4;
            double var = 0;
            for (double x : logs) {
                var += (x - mu) * (x - mu) / 4;
            }
            double sigma = Math.sqrt(var);
            assertThat(out.get("s4").getMarketPriceNorm()).isCloseTo((float) ((Math.log1p(8) - mu) / sigma), within(1e-5f));
            assertThat(out.get("s5").getMarketPriceNorm()).isCloseTo((float) ((0 - mu) / sigma), within(1e-5f));
        }
    }

    @Test
    void theTargetIsClippedAtTheConfiguredNumberOfStandardDeviations() throws Exception {
        AieConfig clip2 = AieConfig.builder().minSamples(4).minPositives(3).marketPriceZClip(2).build();
        try (var h = harness(clip2)) {
            for (int i = 0; i < 4; i++) {
                h.processElement(sample("u", "s" + i, "ad", 10 + i, "slot", 1, 9_000_000, 1_000_000 + i * 1_000, 0), 10 + i);
            }
            h.processElement(sample("u", "far", "ad", 30, "slot", 1, 900_000_000, 500_000_000, 0), 30);
            h.processWatermark(new Watermark(30));
            assertThat(byId(h.extractOutputValues()).get("far").getMarketPriceNorm()).isEqualTo(2.0f);
        }
    }

    @Test
    void bcmWeightsPositivesByBidOverTheMedianBidOfEarlierPositivesClipped() throws Exception {
        try (var h = harness(SMALL)) {
            long t = 10;
            for (long bid : new long[] {500_000, 1_000_000, 2_000_000}) {
                h.processElement(sample("u", "p" + bid, "ad", t, "slot", 1, bid, 100_000, 1), t++);
            }
            h.processElement(sample("u", "x4", "ad", t, "slot", 1, 4_000_000, 100_000, 1), t);
            h.processElement(sample("u", "x16", "ad", t, "slot", 1, 16_000_000, 100_000, 1), t);
            h.processElement(sample("u", "x01", "ad", t, "slot", 1, 100_000, 100_000, 1), t);
            h.processElement(sample("u", "neg", "ad", t, "slot", 1, 16_000_000, 100_000, 0), t);
            h.processWatermark(new Watermark(t));

            Map<String, TrainingSample> out = byId(h.extractOutputValues());
            assertThat(out.get("p500000").getBcmWeight()).as("no reference bid yet").isEqualTo(1.0f);
            assertThat(out.get("p2000000").getBcmWeight()).as("2 positives < min 3").isEqualTo(1.0f);
            // b_ref = median(0.5, 1, 2) = 1 (currency units); beta 0.5
            assertThat(out.get("x4").getBcmWeight()).isCloseTo(2.0f, within(1e-6f));
            assertThat(out.get("x16").getBcmWeight()).as("4 clipped to 3").isEqualTo(3.0f);
            assertThat(out.get("x01").getBcmWeight()).as("0.316 clipped to 0.5").isEqualTo(0.5f);
            assertThat(out.get("neg").getBcmWeight()).as("negatives keep 1").isEqualTo(1.0f);
        }
    }

    @Test
    void statisticsRollOverTwoWindowsAndAreKeptPerScenario() throws Exception {
        AieConfig config = AieConfig.builder().minSamples(2).minPositives(1).windowMs(100).publishIntervalMs(1).build();
        try (var h = harness(config)) {
            for (int i = 0; i < 5; i++) {
                h.processElement(sample("u", "a" + i, "ad", 10 + i, "slotA", 1, 9, 1_000_000, 0), 10 + i); // window 0
            }
            h.processElement(sample("u", "b0", "ad", 10, "slotA", 2, 9, 7_000_000, 0), 10); // other position
            for (int i = 0; i < 3; i++) {
                h.processElement(sample("u", "c" + i, "ad", 110 + i, "slotA", 1, 9, 2_000_000, 0), 110 + i); // window 1
            }
            h.processElement(sample("u", "d0", "ad", 250, "slotA", 1, 9, 3_000_000, 0), 250); // window 2
            h.processElement(sample("u", "e0", "ad", 260, "slotA", 1, 9, 3_000_000, 0), 260);
            h.processWatermark(new Watermark(300));

            Map<String, VersionedWrite> last = h.getSideOutput(AuctionStatisticsFunction.REDIS_STATISTICS).stream()
                    .map(r -> r.getValue()).collect(Collectors.toMap(w -> w.key, w -> w, (a, b) -> b.version > a.version ? b : a));
            assertThat(last.keySet()).containsExactlyInAnyOrder("ctr:market:{slotA#1}", "ctr:market:{slotA#2}");
            VersionedWrite slotA1 = last.get("ctr:market:{slotA#1}");
            // at 260: windows 1 (3 samples) and 2 (2 samples); window 0 has rolled out
            assertThat(text(slotA1, "count")).isEqualTo("5");
            assertThat(text(slotA1, "window_start_ms")).isEqualTo("100");
            assertThat(text(slotA1, "updated_ms")).isEqualTo("260");
            assertThat(slotA1.version).isEqualTo(260);
            assertThat(text(slotA1, "market_price_quantiles_micros").split(",")).hasSize(9).contains("2000000", "3000000");
            assertThat(text(last.get("ctr:market:{slotA#2}"), "count")).isEqualTo("1");
        }
    }

    @Test
    void replaysInAnotherArrivalOrderAndOnRocksDbGiveBitIdenticalSamplesAndPublications() throws Exception {
        assertThat(SeededKll.reproducible()).isTrue();
        List<TrainingSample> samples = new ArrayList<>();
        Random random = new Random(7);
        for (int i = 0; i < 6_000; i++) {
            long t = 1_000 + i / 3;
            long bid = 100_000 + random.nextInt(5_000_000);
            samples.add(sample("u", "s" + i, "ad", t, "slot" + (i % 2), 1, bid, (long) (bid * random.nextDouble()),
                    random.nextInt(10) == 0 ? 1 : 0));
        }
        AieConfig config = AieConfig.builder().windowMs(1_000).publishIntervalMs(50).sketchK(50).build();
        Run first = run(config, samples, new Random(1), false);
        Run second = run(config, samples, new Random(2), true); // and on RocksDB
        assertThat(first.samples).hasSize(samples.size());
        assertThat(first.samples).isEqualTo(second.samples);
        assertThat(first.publications).isEqualTo(second.publications);
        // enough data that KLL compacted (so the seeding mattered) and the statistics were in use
        assertThat(first.samples.stream().filter(s -> s.getMarketPriceNorm() != null).count()).isGreaterThan(5_000);
        assertThat(first.samples.stream().filter(s -> s.getLabel() == 1 && s.getBcmWeight() != 1.0f).count()).isPositive();
    }

    private record Run(List<TrainingSample> samples, List<VersionedWrite> publications) {}

    private static Run run(AieConfig config, List<TrainingSample> samples, Random arrival, boolean rocksDb) throws Exception {
        List<TrainingSample> shuffled = new ArrayList<>(samples);
        // out of order within 20 ms: sort by label time + a random delay, watermark 21 ms behind
        Map<TrainingSample, Long> key = new java.util.IdentityHashMap<>();
        shuffled.forEach(s -> key.put(s, s.getLabelTimeMs() + arrival.nextInt(21)));
        shuffled.sort(Comparator.comparingLong(key::get));
        try (var h = harness(config, rocksDb)) {
            for (TrainingSample s : shuffled) {
                // a fresh record per run, as a deserialized input would be (the operator completes it in place)
                h.processElement(TrainingSample.newBuilder(s).build(), s.getLabelTimeMs());
                h.processWatermark(new Watermark(key.get(s) - 21));
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<TrainingSample> out = new ArrayList<>(h.extractOutputValues());
            out.sort(Comparator.comparing(TrainingSample::getSampleId));
            List<VersionedWrite> pubs = h.getSideOutput(AuctionStatisticsFunction.REDIS_STATISTICS).stream()
                    .map(r -> r.getValue()).sorted(Comparator.comparing((VersionedWrite w) -> w.key).thenComparingLong(w -> w.version))
                    .toList();
            return new Run(out, pubs);
        }
    }

    static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, TrainingSample> harness(AieConfig config)
            throws Exception {
        return harness(config, false);
    }

    static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, TrainingSample> harness(AieConfig config,
            boolean rocksDb) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, TrainingSample>(
                new KeyedProcessOperator<>(new AuctionStatisticsFunction(config)), AuctionStatistics::scenarioKey, Types.STRING);
        if (rocksDb) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend()); // before setup
        }
        h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
        h.open();
        assertThat(h.getOperator().getKeyedStateBackend().getClass().getName().contains("RocksDB")).isEqualTo(rocksDb);
        return h;
    }

    private static Map<String, TrainingSample> byId(List<TrainingSample> samples) {
        return samples.stream().collect(Collectors.toMap(TrainingSample::getImpressionId, s -> s));
    }

    private static String text(VersionedWrite w, String field) {
        return new String(w.field(field), StandardCharsets.UTF_8);
    }
}
