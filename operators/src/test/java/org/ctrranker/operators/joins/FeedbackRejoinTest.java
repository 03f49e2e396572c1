package org.ctrranker.operators.joins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.joins.Events.T0;
import static org.ctrranker.operators.joins.Events.auction;
import static org.ctrranker.operators.joins.Events.impression;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.features.SampleFeedback;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.ByteDelta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FeedbackRejoinTest {

    private static final long W = 30 * 60_000L;
    private static final long GRACE = 60_000L;
    private static final JoinConfig CONFIG = JoinConfig.builder().attributionWindowMs(W).lateClickGraceMs(GRACE).build();
    private static final MapStateDescriptor<String, byte[]> PARKED = new MapStateDescriptor<>("parked-feedback",
            Types.STRING, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    private static final ValueStateDescriptor<String[]> FIRST_LAYOUT_IDS = new ValueStateDescriptor<>(
            "parked-feedback-ids", BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO);
    private static final ValueStateDescriptor<long[]> FIRST_LAYOUT_TIMES = new ValueStateDescriptor<>(
            "parked-feedback-times", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO);

    @Test
    void aLabelledSampleLeavesWithItsParkedSnapshotWhichThenGoes() throws Exception {
        try (var h = harness("hashmap", null)) {
            SampleFeedback feedback = feedback("u1", "a1-p1", T0, history(T0, 12));
            h.processElement2(feedback, T0);
            TrainingSample labelled = labelled("a1", T0, SampleType.WINDOW_CLOSED, T0 + W);
            h.processElement1(labelled, T0 + W);

            assertThat(h.getOutput()).singleElement().satisfies(r -> {
                StreamRecord<?> record = (StreamRecord<?>) r;
                TrainingSample out = (TrainingSample) record.getValue();
                assertThat(out.getFeedback()).isEqualTo(UserFeedbackFunction.decode(feedback.bytes));
                assertThat(out.getLabelTimeMs()).isEqualTo(T0 + W);
                assertThat(record.getTimestamp()).isEqualTo(T0 + W);
            });
            assertThat(parkedBytes(h, "u1")).as("its window-closed sample took it").isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aBusyUsersSnapshotsWaitAsDeltasAndComeBackByteEqualAcrossARestore(String backend) throws Exception {
        Map<String, byte[]> sent = new LinkedHashMap<>();
        OperatorSubtaskState checkpoint;
        try (var h = harness(backend, null)) {
            for (int i = 0; i < 60; i++) {
                SampleFeedback f = feedback("u1", "a" + i + "-p1", T0 + i * 1_000L, history(T0 + i * 1_000L, 100 + i));
                sent.put(f.impressionId, f.bytes);
                h.processElement2(f, f.impressionTimeMs);
            }
            Map<String, byte[]> stored = parkedBytes(h, "u1");
            long whole = sent.values().stream().mapToLong(b -> b.length).sum();
            long kept = stored.values().stream().mapToLong(b -> b.length).sum();
            assertThat(stored.values().stream().filter(ByteDelta::isDelta).count()).isGreaterThanOrEqualTo(50);
            assertThat(kept).as("bytes kept against whole").isLessThan(whole / 5);
            checkpoint = h.snapshot(1, 1);
        }
        try (var h = harness(backend, checkpoint)) {
            // out of order: the middle ones first, so their successors are rebased
            List<String> order = new ArrayList<>(sent.keySet());
            java.util.Collections.shuffle(order, new Random(7));
            for (String impressionId : order) {
                int i = Integer.parseInt(impressionId.substring(1, impressionId.indexOf('-')));
                h.processElement1(labelled("a" + i, T0 + i * 1_000L, SampleType.WINDOW_CLOSED, T0 + i * 1_000L + W),
                        T0 + i * 1_000L + W);
            }
            Map<String, UserFeedbackSnapshot> out = new HashMap<>();
            for (TrainingSample s : h.extractOutputValues()) {
                out.put(s.getImpressionId(), s.getFeedback());
            }
            assertThat(out).hasSize(sent.size());
            for (var e : sent.entrySet()) {
                assertThat(UserFeedbackFunction.encode(out.get(e.getKey()))).as(e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(parkedBytes(h, "u1")).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void randomParksLabelsAndWatermarksGiveEverySampleItsOwnSnapshot(String backend) throws Exception {
        Random random = new Random(11);
        Map<String, byte[]> sent = new HashMap<>();
        Map<String, Long> times = new HashMap<>();
        List<String> open = new ArrayList<>();
        int labelled = 0;
        long watermark = T0 - 1;
        try (var h = harness(backend, null)) {
            for (int op = 0; op < 1_500; op++) {
                int kind = random.nextInt(10);
                if (kind < 5) {
                    String user = "u" + random.nextInt(3);
                    String id = "a" + op + "-p1";
                    long time = watermark + 1 + random.nextInt(5_000);
                    SampleFeedback f = feedback(user, id, time, history(time, 20 + random.nextInt(40)));
                    sent.put(id, f.bytes);
                    times.put(id, time);
                    open.add(user + "/" + id);
                    h.processElement2(f, time);
                } else if (kind < 9 && !open.isEmpty()) {
                    String[] userAndId = open.remove(random.nextInt(open.size())).split("/");
                    String id = userAndId[1];
                    TrainingSample s = labelled(id.substring(0, id.indexOf('-')), times.get(id), SampleType.WINDOW_CLOSED,
                            times.get(id) + W);
                    s.setUserId(userAndId[0]);
                    h.processElement1(s, times.get(id) + W);
                    labelled++;
                } else {
                    // a watermark that removes nothing still open: every open one is younger than W + grace
                    h.processBothWatermarks(new Watermark(++watermark));
                }
            }
            List<TrainingSample> out = h.extractOutputValues();
            assertThat(out).hasSize(labelled);
            for (TrainingSample s : out) {
                assertThat(UserFeedbackFunction.encode(s.getFeedback())).as(s.getImpressionId())
                        .isEqualTo(sent.get(s.getImpressionId()));
            }
            h.processBothWatermarks(new Watermark(watermark + 5_000 + W + GRACE + FeedbackRejoin.TIMER_GRID_MS));
            for (String user : List.of("u0", "u1", "u2")) {
                assertThat(parkedBytes(h, user)).as("the never-labelled gone at their removal times").isEmpty();
                assertThat(bookkeeping(h, user)).as("nothing left beside them").isEmpty();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void theFirstLayoutsStateIsTakenOverAtTheUsersNextAccess(String backend) throws Exception {
        try (var h = harness(backend, null)) {
            // stop 55's layout: the user's ids and impression times in two lists, each delta from the one before it
            var state = h.getOperator().getKeyedStateBackend();
            state.setCurrentKey("u1");
            MapState<String, byte[]> stored = state.getPartitionedState(VoidNamespace.INSTANCE,
                    VoidNamespaceSerializer.INSTANCE, PARKED);
            Map<String, byte[]> sent = new LinkedHashMap<>();
            String[] ids = new String[40];
            long[] times = new long[40];
            byte[] previous = null;
            ByteDelta delta = new ByteDelta();
            for (int i = 0; i < ids.length; i++) {
                ids[i] = "a" + i + "-p1";
                times[i] = T0 + i * 1_000L;
                byte[] snapshot = history(times[i], 100 + i);
                sent.put(ids[i], snapshot);
                stored.put(ids[i], i % ParkedFeedback.MAX_CHAIN == 0 ? snapshot
                        : delta.encode(previous, snapshot, i % ParkedFeedback.MAX_CHAIN));
                previous = snapshot;
            }
            state.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, FIRST_LAYOUT_IDS)
                    .update(ids);
            state.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, FIRST_LAYOUT_TIMES)
                    .update(times);
            @SuppressWarnings("unchecked")
            var operator = (KeyedCoProcessOperator<String, TrainingSample, SampleFeedback, TrainingSample>) h.getOperator();
            var timers = operator.getInternalTimerService("user-timers", VoidNamespaceSerializer.INSTANCE, operator);
            for (long time : times) {
                timers.registerEventTimeTimer(VoidNamespace.INSTANCE, removalTime(time));
            }

            SampleFeedback next = feedback("u1", "a40-p1", T0 + 40_000, history(T0 + 40_000, 140));
            sent.put(next.impressionId, next.bytes);
            h.processElement2(next, next.impressionTimeMs);
            assertThat(parkedBytes(h, "u1").get("a40-p1")).as("a delta from the first layout's newest")
                    .satisfies(b -> assertThat(ByteDelta.isDelta(b)).isTrue());

            List<String> order = new ArrayList<>(sent.keySet());
            java.util.Collections.shuffle(order, new Random(3));
            List<String> taken = order.subList(0, 25);
            for (String impressionId : taken) {
                int i = Integer.parseInt(impressionId.substring(1, impressionId.indexOf('-')));
                h.processElement1(labelled("a" + i, T0 + i * 1_000L, SampleType.WINDOW_CLOSED, T0 + i * 1_000L + W),
                        T0 + i * 1_000L + W);
            }
            List<TrainingSample> out = h.extractOutputValues();
            assertThat(out).hasSize(taken.size());
            for (TrainingSample s : out) {
                assertThat(UserFeedbackFunction.encode(s.getFeedback())).as(s.getImpressionId())
                        .isEqualTo(sent.get(s.getImpressionId()));
            }
            state.setCurrentKey("u1");
            assertThat(state.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    FIRST_LAYOUT_IDS).value()).isNull();

            // the first layout's timers stand at the same removal times
            h.processBothWatermarks(new Watermark(T0 + 40_000 + W + GRACE));
            assertThat(parkedBytes(h, "u1")).isEmpty();
            assertThat(bookkeeping(h, "u1")).isEmpty();
        }
    }

    @Test
    void aSampleBeforeItsSnapshotWaitsAndLeavesWithItsOwnTimestamp() throws Exception {
        try (var h = harness("hashmap", null)) {
            TrainingSample negative = labelled("a1", T0, SampleType.FAKE_NEGATIVE, T0);
            h.processElement1(negative, T0);
            SampleFeedback feedback = feedback("u1", "a1-p1", T0, history(T0, 5));
            h.processElement2(feedback, T0);
            assertThat(h.extractOutputValues()).as("not before the watermark passes its label time").isEmpty();

            h.processBothWatermarks(new Watermark(T0));
            assertThat(h.getOutput().stream().filter(StreamRecord.class::isInstance).map(StreamRecord.class::cast))
                    .singleElement().satisfies(r -> {
                        assertThat(r.getTimestamp()).isEqualTo(T0);
                        assertThat(((TrainingSample) r.getValue()).getFeedback())
                                .isEqualTo(UserFeedbackFunction.decode(feedback.bytes));
                    });

            // fake-negative mode's positive copy finds the snapshot still parked
            h.processElement1(labelled("a1", T0, SampleType.POSITIVE_COPY, T0 + 5_000), T0 + 5_000);
            assertThat(h.extractOutputValues()).hasSize(2).last()
                    .satisfies(s -> assertThat(s.getFeedback()).isNotNull());
            h.processBothWatermarks(new Watermark(T0 + W + GRACE));
            assertThat(parkedBytes(h, "u1")).as("gone at W + grace").isEmpty();
        }
    }

    @Test
    void aSampleWhoseSnapshotNeverComesLeavesWithoutItAtItsRemovalTime() throws Exception {
        try (var h = harness("hashmap", null)) {
            h.processElement1(labelled("a1", T0, SampleType.WINDOW_CLOSED, T0 + W), T0 + W);
            h.processBothWatermarks(new Watermark(T0 + W + GRACE - 1));
            assertThat(h.extractOutputValues()).isEmpty();
            h.processBothWatermarks(new Watermark(T0 + W + GRACE));
            assertThat(h.extractOutputValues()).singleElement()
                    .satisfies(s -> assertThat(s.getFeedback()).isNull());
        }
    }

    @Test
    void aSampleCarryingFeedbackPassesAndADuplicateSnapshotKeepsTheFirst() throws Exception {
        try (var h = harness("hashmap", null)) {
            TrainingSample restored = labelled("a0", T0, SampleType.WINDOW_CLOSED, T0 + W);
            restored.setFeedback(UserFeedbackFunction.decode(history(T0, 3)));
            h.processElement1(restored, T0 + W);

            SampleFeedback first = feedback("u1", "a1-p1", T0, history(T0, 4));
            h.processElement2(first, T0);
            h.processElement2(feedback("u1", "a1-p1", T0, history(T0, 9)), T0);
            h.processElement1(labelled("a1", T0, SampleType.WINDOW_CLOSED, T0 + W), T0 + W);

            List<TrainingSample> out = h.extractOutputValues();
            assertThat(out).hasSize(2);
            assertThat(out.get(0).getFeedback()).isEqualTo(restored.getFeedback());
            assertThat(out.get(1).getFeedback()).isEqualTo(UserFeedbackFunction.decode(first.bytes));
        }
    }

    /** A snapshot of {@code exposures} unclicked exposures, the newest at {@code time}: the one before shares all but it. */
    private static byte[] history(long time, int exposures) {
        List<Exposure> unclicks = new ArrayList<>();
        for (int i = 0; i < exposures; i++) {
            unclicks.add(new Exposure("ad-" + (i * 7919 % 1000), "cat-" + i % 12, time - (exposures - i) * 1_000L));
        }
        return UserFeedbackFunction.encode(new UserFeedbackSnapshot(time, List.of(), unclicks, 0L, List.of()));
    }

    private static SampleFeedback feedback(String user, String impressionId, long time, byte[] bytes) {
        return new SampleFeedback(user, impressionId, time, bytes);
    }

    private static TrainingSample labelled(String auctionId, long impressionTime, SampleType type, long labelTime) {
        TrainingSample sample = ImpressionSamples.of(auction(auctionId, impressionTime - 100),
                impression(auctionId, "ad-1", impressionTime), W);
        sample.setSampleType(type);
        sample.setLabelTimeMs(labelTime);
        sample.setFeedback(null);
        return sample;
    }

    /** The removal time stop 55's layout set its timers at. */
    private static long removalTime(long impressionTime) {
        long due = impressionTime + W + GRACE;
        return FeedbackRejoin.TIMER_GRID_MS * Math.floorDiv(due + FeedbackRejoin.TIMER_GRID_MS - 1,
                FeedbackRejoin.TIMER_GRID_MS);
    }

    /** The entries of the parked snapshots' bases, successors, newest id and removal times of {@code user}. */
    private static List<String> bookkeeping(
            KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, SampleFeedback, TrainingSample> h,
            String user) throws Exception {
        var backend = h.getOperator().getKeyedStateBackend();
        backend.setCurrentKey(user);
        List<String> entries = new ArrayList<>();
        for (String name : List.of("parked-feedback-bases", "parked-feedback-successors")) {
            backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new MapStateDescriptor<>(name, Types.STRING, Types.STRING)).entries()
                    .forEach(e -> entries.add(name + " " + e.getKey() + " " + e.getValue()));
        }
        backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                new MapStateDescriptor<>("parked-feedback-due", Types.LONG, BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO))
                .entries().forEach(e -> entries.add("due " + e.getKey() + " " + List.of(e.getValue())));
        String newest = backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                new ValueStateDescriptor<>("parked-feedback-newest", Types.STRING)).value();
        if (newest != null) {
            entries.add("newest " + newest);
        }
        return entries;
    }

    private static Map<String, byte[]> parkedBytes(
            KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, SampleFeedback, TrainingSample> h,
            String user) throws Exception {
        var backend = h.getOperator().getKeyedStateBackend();
        backend.setCurrentKey(user);
        MapState<String, byte[]> state = backend.getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE, PARKED);
        Map<String, byte[]> values = new HashMap<>();
        for (var e : state.entries()) {
            values.put(e.getKey(), e.getValue());
        }
        return values;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, SampleFeedback, TrainingSample> harness(
            String backend, OperatorSubtaskState restore) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, SampleFeedback, TrainingSample>(
                new KeyedCoProcessOperator<>(new FeedbackRejoin(CONFIG)), TrainingSample::getUserId,
                SampleFeedback::getUserId, Types.STRING);
        if (backend.equals("rocksdb")) {
            h.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }
}
