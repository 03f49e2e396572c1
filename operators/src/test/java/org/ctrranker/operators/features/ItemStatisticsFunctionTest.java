package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.features.FeedbackEvents.impression;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.junit.jupiter.api.Test;

/** Ticks of 10 ms, the scorer's lag 15 ms, an attribution window of 50 ms; every ad's events by hand. */
class ItemStatisticsFunctionTest {

    private static final ItemStatisticsConfig CONFIG = new ItemStatisticsConfig(10, 1_000, 100_000, 15, 50);
    private static final long T = 1_000;

    @Test
    void countsImpressionsAndAttributedClicksPerTickAndStampsTheScorersPointInTime() throws Exception {
        try (var h = harness()) {
            h.processElement1(impression("u1", "i1", "x", T + 3), T + 3);
            h.processElement1(impression("u2", "i2", "x", T + 12), T + 12);
            h.processElement2(click("i1", "x", T + 14), T + 14);
            h.processElement2(click("i1", "x", T + 16), T + 16); // a second click on i1
            h.processElement2(click("i9", "x", T + 17), T + 17); // its impression never came
            h.processElement1(impression("u3", "i3", "x", T + 40), T + 40);
            h.processElement2(click("i3", "x", T + 95), T + 95); // 55 ms after: outside the window
            h.processBothWatermarks(new Watermark(T + 200));

            assertThat(ticks(h)).containsExactly("x@1009=1/0", "x@1019=2/1", "x@1049=3/1", "x@1099=3/1");
            Map<String, ItemCounts> stamped = stamps(h);
            assertThat(stamped.get("i1")).as("no tick before 988").isNull();
            assertThat(stamped.get("i2")).as("the tick ending at 1009 is after 997").isNull();
            assertThat(stamped.get("i3")).as("point in time 1025: the tick ending at 1019")
                    .isEqualTo(new ItemCounts(T + 19, 2L, 1L));
        }
    }

    @Test
    void backfillIsNeitherCountedNorStampedAndItsClicksDoNotCount() throws Exception {
        try (var h = harness()) {
            TrainingSample history = impression("u1", "h1", "x", T);
            history.setBackfill(true);
            h.processElement1(history, T);
            h.processElement2(click("h1", "x", T + 5), T + 5);
            h.processElement1(impression("u1", "i1", "x", T + 30), T + 30);
            h.processBothWatermarks(new Watermark(T + 100));

            assertThat(ticks(h)).containsExactly("x@1009=0/0", "x@1039=1/0");
            assertThat(stamps(h)).containsKeys("h1", "i1");
            assertThat(stamps(h).get("h1")).isNull();
            assertThat(stamps(h).get("i1")).as("point in time 1015: the tick ending at 1009, which counted nothing")
                    .isEqualTo(new ItemCounts(T + 9, 0L, 0L));
        }
    }

    @Test
    void arrivalOrderWithinTheWatermarkBoundChangesNothing() throws Exception {
        List<String> inOrder;
        Map<String, ItemCounts> inOrderStamps;
        try (var h = harness()) {
            feedTwoAds(h, false);
            inOrder = ticks(h);
            inOrderStamps = stamps(h);
        }
        try (var h = harness()) {
            feedTwoAds(h, true);
            assertThat(ticks(h)).containsExactlyInAnyOrderElementsOf(inOrder);
            assertThat(stamps(h)).isEqualTo(inOrderStamps);
        }
        assertThat(inOrderStamps.get("b3")).isEqualTo(new ItemCounts(T + 19, 2L, 2L));
    }

    @Test
    void anEventBehindTheWatermarkCountsInTheNextOpenTick() throws Exception {
        try (var h = harness()) {
            h.processElement1(impression("u1", "i1", "x", T), T);
            h.processBothWatermarks(new Watermark(T + 25));
            h.processElement1(impression("u2", "i2", "x", T + 3), T + 3); // its tick ended at 1009
            h.processBothWatermarks(new Watermark(T + 100));

            assertThat(ticks(h)).containsExactly("x@1009=1/0", "x@1029=2/0");
        }
    }

    @Test
    void anIdleAdIsForgottenAndCountsAgainFromZero() throws Exception {
        ItemStatisticsConfig shortIdle = new ItemStatisticsConfig(10, 1_000, 1_000, 15, 50);
        long hour = ItemStatisticsFunction.IDLE_GRID_MS;
        try (var h = harness(shortIdle)) {
            h.processElement1(impression("u1", "i1", "x", T), T);
            h.processBothWatermarks(new Watermark(2 * hour));
            h.processElement1(impression("u1", "i2", "x", 2 * hour + 100), 2 * hour + 100);
            h.processBothWatermarks(new Watermark(3 * hour));

            assertThat(ticks(h)).containsExactly("x@1009=1/0", "x@" + (2 * hour + 109) + "=1/0");
        }
    }

    @Test
    void everyPointInTheHistoryFindsItsTickAcrossBucketsAndOlderBucketsAreDropped() throws Exception {
        long tick = 10_000;
        long history = 300_000;
        ItemStatisticsConfig config = new ItemStatisticsConfig(tick, history, 1_000_000_000L, 15, 50);
        try (var h = harness(config)) {
            long start = 1_000_000_000L;
            for (int k = 0; k < 120; k++) { // 20 minutes of a busy ad: a tick every 10 s, ten buckets of 6
                long at = start + k * tick + 1 + (k % 7) * 100;
                h.processElement1(impression("u" + k, "i" + k, "x", at), at);
                h.processBothWatermarks(new Watermark(at + tick));
            }
            long watermark = start + 120 * tick;
            h.processBothWatermarks(new Watermark(watermark));
            List<long[]> published = new ArrayList<>();
            h.getSideOutput(ItemStatisticsFunction.TICKS)
                    .forEach(r -> published.add(new long[] {r.getValue().asOfMs, r.getValue().impressions}));
            assertThat(published).hasSize(120);
            h.getOutput().clear();

            // late samples: stamped at once, as of points in time anywhere in the history
            Map<String, Long> pointInTime = new TreeMap<>();
            for (long p = watermark - history; p <= watermark; p += 3_333) {
                String id = "late-" + p;
                TrainingSample late = impression("v", id, "x", p + 15);
                late.setRequestTimeMs(p + 15);
                h.processElement1(late, p + 15);
                pointInTime.put(id, p);
            }
            Map<String, ItemCounts> stamped = stamps(h);
            assertThat(stamped).hasSameSizeAs(pointInTime);
            pointInTime.forEach((id, p) -> {
                long[] newest = published.stream().filter(t -> t[0] <= p).reduce((a, b) -> b).orElseThrow();
                assertThat(stamped.get(id)).as("%s as of %d", id, p).isEqualTo(new ItemCounts(newest[0], newest[1], 0L));
            });
            assertThat(tickBuckets(h, "x")).as("buckets of the last 5 minutes and the one before")
                    .isBetween(5, 7);
        }
    }

    @Test
    void aHistoryWrittenAsOneArrayByAnEarlierBuildIsReadAndMovedIntoBuckets() throws Exception {
        try (var h = harness()) {
            var backend = h.getOperator().<String>getKeyedStateBackend();
            backend.setCurrentKey("x");
            backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new ValueStateDescriptor<>("item-counts", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO))
                    .update(new long[] {2, 1, T + 14, ItemStatisticsFunction.IDLE_GRID_MS * 2});
            backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new ValueStateDescriptor<>("item-ticks", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO))
                    .update(new long[] {T + 9, 1, 0, T + 19, 2, 1});
            h.processBothWatermarks(new Watermark(T + 100));

            TrainingSample late = impression("u", "i1", "x", T + 40);
            h.processElement1(late, T + 40); // point in time 1025 (request time = impression time here)
            assertThat(stamps(h).get("i1")).isEqualTo(new ItemCounts(T + 19, 2L, 1L));
            assertThat(tickBuckets(h, "x")).isEqualTo(1);
            h.processBothWatermarks(new Watermark(T + 200));
            assertThat(ticks(h)).as("the counts go on").containsExactly("x@1109=3/1");
            TrainingSample next = impression("u", "i2", "x", T + 130);
            h.processElement1(next, T + 130);
            assertThat(stamps(h).get("i2")).isEqualTo(new ItemCounts(T + 109, 3L, 1L));
            assertThat(backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new ValueStateDescriptor<>("item-ticks", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO)).value())
                    .as("the one-array history, once read").isNull();
        }
    }

    private static int tickBuckets(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h,
            String adId) throws Exception {
        var backend = h.getOperator().<String>getKeyedStateBackend();
        backend.setCurrentKey(adId);
        int buckets = 0;
        for (Long ignored : backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                new MapStateDescriptor<>("item-tick-buckets", Types.LONG, PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO))
                .keys()) {
            buckets++;
        }
        return buckets;
    }

    private static void feedTwoAds(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h,
            boolean shuffled) throws Exception {
        List<Runnable> events = new ArrayList<>();
        events.add(() -> element1(h, impression("u1", "a1", "a", T + 1)));
        events.add(() -> element1(h, impression("u1", "b1", "b", T + 2)));
        events.add(() -> element1(h, impression("u2", "b2", "b", T + 11)));
        events.add(() -> element2(h, click("b1", "b", T + 12)));
        events.add(() -> element2(h, click("b2", "b", T + 13)));
        events.add(() -> element2(h, click("a1", "a", T + 13)));
        events.add(() -> element1(h, impression("u3", "b3", "b", T + 45)));
        if (shuffled) {
            java.util.Collections.reverse(events);
        }
        events.forEach(Runnable::run);
        h.processBothWatermarks(new Watermark(T + 200));
    }

    private static void element1(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h,
            TrainingSample sample) {
        try {
            h.processElement1(sample, sample.getImpressionTimeMs());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void element2(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h,
            AdClick click) {
        try {
            h.processElement2(click, click.getClickTimeMs());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static AdClick click(String impressionId, String adId, long timeMs) {
        return AdClick.newBuilder().setClickId("c-" + impressionId + "-" + timeMs).setImpressionId(impressionId)
                .setUserId("u").setAdId(adId).setClickTimeMs(timeMs).build();
    }

    /** "ad@asOf=impressions/clicks", in output order. */
    private static List<String> ticks(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h) {
        List<String> out = new ArrayList<>();
        var side = h.getSideOutput(ItemStatisticsFunction.TICKS);
        if (side != null) {
            for (StreamRecord<ItemTick> r : side) {
                ItemTick t = r.getValue();
                assertThat(r.getTimestamp()).isEqualTo(t.asOfMs);
                out.add(t.adId + "@" + t.asOfMs + "=" + t.impressions + "/" + t.clicks);
            }
        }
        return out;
    }

    private static Map<String, ItemCounts> stamps(
            KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h) {
        Map<String, ItemCounts> out = new TreeMap<>();
        for (TrainingSample s : h.extractOutputValues()) {
            out.put(s.getImpressionId(), s.getItemCounts());
        }
        return out;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> harness()
            throws Exception {
        return harness(CONFIG);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> harness(
            ItemStatisticsConfig config) throws Exception {
        return harness(config, null);
    }

    /** On the heap backend, or on {@code backend} when given. */
    static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> harness(
            ItemStatisticsConfig config, org.apache.flink.runtime.state.StateBackend backend) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample>(
                new KeyedCoProcessOperator<>(new ItemStatisticsFunction(config)),
                TrainingSample::getAdId, AdClick::getAdId, Types.STRING);
        if (backend != null) {
            h.setStateBackend(backend); // before setup, which builds the operator's state backend
        }
        h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
        h.open();
        return h;
    }
}
