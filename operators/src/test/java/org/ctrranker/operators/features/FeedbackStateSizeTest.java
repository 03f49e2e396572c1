package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.junit.jupiter.api.Test;

/** Bytes per user of the feedback state at its largest (defaults L = 30, R = 5), and of what it emits. */
class FeedbackStateSizeTest {

    @Test
    void aUserWithLClicksAndEverySlotFilledStaysWithinItsBound() throws Exception {
        FeedbackConfig config = FeedbackConfig.defaults();
        FullUserHistory.Events events = FullUserHistory.of("full-user", 40);
        try (var h = UserFeedbackFunctionTest.harness(config)) {
            events.feed(h);
            long settled = events.lastTimeMs() + config.attributionWindowMs();
            h.processBothWatermarks(new Watermark(settled));

            var operator = h.getOperator();
            operator.setCurrentKey("full-user");
            byte[] state = operator.getKeyedStateStore().getState(UserFeedbackFunction.timelineDescriptor(config)).value();
            FeedbackTimeline timeline = FeedbackTimelineCodec.decode(state, config);
            UserFeedbackSnapshot snapshot = timeline.snapshotAt(settled, null);
            assertThat(snapshot.getClicks()).hasSize(30);
            assertThat(snapshot.getClicks()).allSatisfy(c -> {
                assertThat(c.getBefore()).hasSize(5);
                assertThat(c.getAfter()).hasSize(5);
            });
            // settled: exactly the 30 clicks, their 300 unclicks and nothing else
            assertThat(timeline.size()).isEqualTo(30 + 300);

            // Flink's bytes of the value (the heap backend's checkpoint and RocksDB store these), plus
            // the Avro snapshot every sample of this user carries and the Redis mirror payload.
            DataOutputSerializer out = new DataOutputSerializer(1024);
            PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO.createSerializer(new SerializerConfigImpl()).serialize(state, out);
            int snapshotBytes = UserFeedbackFunction.encode(snapshot).length;
            DataOutputSerializer sampleOut = new DataOutputSerializer(1024);
            TrainingSample sample = TrainingSample.newBuilder(events.impressions().get(0)).setFeedback(snapshot).build();
            AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()).serialize(sample, sampleOut);
            System.out.printf("full user (L=30, R=5, 330 exposures): Flink state value %d bytes (%.1f per exposure);"
                    + " snapshot Avro %d bytes; a training sample with it %d bytes%n",
                    out.length(), out.length() / 330.0, snapshotBytes, sampleOut.length());
            assertThat(out.length()).isLessThan(12_000);
        }
    }

    @Test
    void generatedUsersTakeAFractionOfTheBound() throws Exception {
        List<TrainingSample> impressions = new ArrayList<>();
        List<AdClick> clicks = new ArrayList<>();
        FeatureStagesRedisIT.generate(new Random(11), impressions, clicks); // the users of the Redis figure
        FeedbackConfig config = FeedbackConfig.builder().attributionWindowMs(600_000).build();
        try (var h = UserFeedbackFunctionTest.harness(config)) {
            impressions.forEach(s -> process(() -> h.processElement1(s, s.getImpressionTimeMs())));
            clicks.forEach(c -> process(() -> h.processElement2(c, c.getClickTimeMs())));
            long last = impressions.stream().mapToLong(TrainingSample::getImpressionTimeMs).max().orElseThrow();
            h.processBothWatermarks(new Watermark(last + config.attributionWindowMs()));

            Set<String> users = new TreeSet<>();
            impressions.forEach(s -> users.add(s.getUserId()));
            long total = 0;
            for (String user : users) {
                h.getOperator().setCurrentKey(user);
                byte[] state = h.getOperator().getKeyedStateStore()
                        .getState(UserFeedbackFunction.timelineDescriptor(config)).value();
                assertThat(state).as(user).isNotNull();
                total += flinkBytes(state);
            }
            System.out.printf("generated users (20..59 impressions, settled): Flink state value %d bytes on average"
                    + " over %d users%n", total / users.size(), users.size());
            assertThat(total / users.size()).isBetween(100L, 4_000L);
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void process(Step step) {
        try {
            step.run();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int flinkBytes(byte[] state) throws java.io.IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO.createSerializer(new SerializerConfigImpl()).serialize(state, out);
        return out.length();
    }

    @Test
    void recentExposuresChangeOnlyWithEventsAndPruningKeepsThemAndNoMore() {
        long hour = FeedbackConfig.FATIGUE_HORIZON_MS;
        FeedbackTimeline timeline = new FeedbackTimeline(1, 1, 10, 1_000, 4);
        for (int i = 0; i < 10; i++) {
            timeline.addExposure("i" + i, "a" + i, "x", i * 10L);
        }
        List<RecentExposure> before = timeline.snapshotAt(200, null).getRecentExposures();
        assertThat(before).extracting(RecentExposure::getAdId).containsExactly("a9", "a8", "a7", "a6");
        assertThat(timeline.snapshotAt(2 * hour, null).getRecentExposures())
                .as("no event since: the same list, however late (a reader takes its own hour of it)").isEqualTo(before);
        timeline.prune(200);
        assertThat(timeline.snapshotAt(200, null).getRecentExposures()).isEqualTo(before);
        assertThat(timeline.size()).as("no clicks: the last 4 (among them the last R = 1 unclick)").isEqualTo(4);

        timeline.addExposure("j", "b", "x", hour + 75);
        long settled = hour + 100;
        List<RecentExposure> after = timeline.snapshotAt(settled, null).getRecentExposures();
        assertThat(after).extracting(RecentExposure::getAdId).as("a7 at 70 is over an hour before b")
                .containsExactly("b", "a9", "a8");
        timeline.prune(settled);
        assertThat(timeline.snapshotAt(settled, null).getRecentExposures()).isEqualTo(after);
        assertThat(timeline.size()).isEqualTo(3);
    }

    @Test
    void openExposuresAreCappedPerUser() {
        FeedbackTimeline timeline = new FeedbackTimeline(3, 2, 1_000, 5);
        for (int i = 0; i < 8; i++) {
            timeline.addExposure("i" + i, "a" + i, "", i);
        }
        assertThat(timeline.size()).isEqualTo(5);
        assertThat(timeline.evictedOpen).isEqualTo(3);
        assertThat(timeline.snapshotAt(5_000, null).getRecentUnclicks()).extracting(e -> e.getAdId())
                .containsExactly("a7", "a6");
    }
}
