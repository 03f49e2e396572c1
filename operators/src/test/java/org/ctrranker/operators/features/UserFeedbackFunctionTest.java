package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.features.FeedbackEvents.click;
import static org.ctrranker.operators.features.FeedbackEvents.impression;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.redis.VersionedWrite;
import org.junit.jupiter.api.Test;

/**
 * Hand-worked alignments (MODEL-NOTES.md 2.3) through the real operator, its timers and watermarks.
 * Small numbers keep them checkable by eye: L = 3 clicks, R = 2 unclicks per side, W = 10 ms.
 *
 * <p>The base sequence of user u (time: ad, C = clicked at the time in brackets, U = never clicked):
 * 10 e1 U, 20 e2 U, 30 e3 C(32), 40 e4 U, 50 e5 C(55), 60 e6 U, 70 e7 U.
 */
class UserFeedbackFunctionTest {

    private static final FeedbackConfig CONFIG = FeedbackConfig.builder()
            .maxClicks(3).unclicksPerSide(2).attributionWindowMs(10).userIdleTimeoutMs(1_000).mirrorIntervalMs(1).build();

    @Test
    void alignsNearestUnclicksOnEachSideSkippingClicksAndSharingUnclicks() throws Exception {
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processElement1(impression("u", "i8", "e8", 200), 200);
            h.processBothWatermarks(new Watermark(200));

            // e3's after-scan passes over the click e5; e4 sits in e3's after and e5's before list.
            assertThat(snapshots(h)).containsEntry("i8", "e3[e2 e1|e4 e6] e5[e4 e2|e6 e7] recent[e7 e6]");
        }
    }

    @Test
    void detachedSamplesLeaveWithoutFeedbackAndTheirSnapshotsBesideThem() throws Exception {
        try (var attached = harness(CONFIG); var detached = unopenedHarness(new UserFeedbackFunction(CONFIG, true), null)) {
            detached.open();
            for (var h : List.of(attached, detached)) {
                baseSequence(h);
                h.processElement1(impression("u", "i8", "e8", 200), 200);
                h.processBothWatermarks(new Watermark(200));
            }
            Map<String, UserFeedbackSnapshot> expected = attached.extractOutputValues().stream()
                    .collect(Collectors.toMap(TrainingSample::getImpressionId, TrainingSample::getFeedback));
            assertThat(expected).hasSize(8).doesNotContainValue(null);
            assertThat(detached.extractOutputValues()).hasSize(8)
                    .allSatisfy(sample -> assertThat(sample.getFeedback()).isNull());

            Map<String, UserFeedbackSnapshot> detachedSnapshots = new java.util.HashMap<>();
            for (var record : detached.getSideOutput(UserFeedbackFunction.FOR_LABELLED_SAMPLES)) {
                SampleFeedback feedback = record.getValue();
                assertThat(feedback.userId).isEqualTo("u");
                assertThat(feedback.impressionTimeMs).isEqualTo(feedback.impressionId.equals("i8") ? 200
                        : Long.parseLong(feedback.impressionId.substring(1)) * 10);
                detachedSnapshots.put(feedback.impressionId, UserFeedbackFunction.decode(feedback.bytes));
            }
            assertThat(detachedSnapshots).isEqualTo(expected);
        }
    }

    @Test
    void aClickWithFewerThanRUnclicksOnASideKeepsWhatExists() throws Exception {
        FeedbackConfig r3 = FeedbackConfig.builder().maxClicks(3).unclicksPerSide(3).attributionWindowMs(10)
                .userIdleTimeoutMs(1_000).build();
        try (var h = harness(r3)) {
            baseSequence(h);
            h.processElement1(impression("u", "i8", "e8", 200), 200);
            h.processBothWatermarks(new Watermark(200));

            assertThat(snapshots(h)).containsEntry("i8", "e3[e2 e1|e4 e6 e7] e5[e4 e2 e1|e6 e7] recent[e7 e6 e4]");
        }
    }

    @Test
    void snapshotHoldsNothingLaterThanItsTimeNorItsOwnImpression() throws Exception {
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            // t = 31: e3's click (32) has not happened, its window is open: e3 is in no list yet.
            h.processElement1(impression("u", "t31", "x31", 31), 31);
            // t = 45: e3 is a click; e4 (40) is still inside its window (closes 50): not an unclick yet;
            // the earlier target x31 itself is an exposure whose window closed at 41: an unclick.
            h.processElement1(impression("u", "t45", "x45", 45), 45);
            // t = 57: e5 clicked at 55 is visible, e4 and x45 are unclicks now; e6 (60) is later than t.
            h.processElement1(impression("u", "t57", "x57", 57), 57);
            h.processBothWatermarks(new Watermark(300));

            Map<String, String> got = snapshots(h);
            assertThat(got).containsEntry("t31", "recent[e2 e1]");
            assertThat(got).containsEntry("t45", "e3[e2 e1|x31] recent[x31 e2]");
            assertThat(got).containsEntry("t57", "e3[e2 e1|x31 e4] e5[x45 e4|] recent[x45 e4]");
            for (TrainingSample s : h.extractOutputValues()) {
                long t = s.getImpressionTimeMs();
                assertThat(s.getFeedback().getAsOfMs()).isEqualTo(t);
                assertThat(allExposureTimes(s.getFeedback())).allMatch(time -> time <= t);
                // the sample's own impression (ad x..) appears nowhere in its snapshot
                assertThat(SnapshotText.of(s.getFeedback())).doesNotContain(s.getAdId());
            }
        }
    }

    @Test
    void aUserWithoutClicksHasNoAlignedClicksButItsRecentUnclicks() throws Exception {
        try (var h = harness(CONFIG)) {
            for (int i = 1; i <= 4; i++) {
                h.processElement1(impression("v", "n" + i, "n" + i, i * 10), i * 10);
            }
            h.processElement1(impression("v", "target", "t", 100), 100);
            h.processBothWatermarks(new Watermark(100));

            assertThat(snapshots(h)).containsEntry("target", "recent[n4 n3]");
            assertThat(snapshots(h)).containsEntry("n1", "recent[]");
        }
    }

    @Test
    void arrivalOrderWithinTheWatermarkBoundDoesNotChangeAnySnapshot() throws Exception {
        Map<String, String> inOrder;
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processElement1(impression("u", "i8", "e8", 75), 75);
            h.processBothWatermarks(new Watermark(500));
            inOrder = snapshots(h);
        }
        try (var h = harness(CONFIG)) {
            // clicks before their impressions, impressions reversed, a duplicate click, all before one watermark
            h.processElement2(click("u", "i5", 55), 55);
            h.processElement2(click("u", "i3", 32), 32);
            h.processElement2(click("u", "i3", 33), 33);
            h.processElement1(impression("u", "i8", "e8", 75), 75);
            for (int i = 7; i >= 1; i--) {
                h.processElement1(impression("u", "i" + i, "e" + i, i * 10L), i * 10L);
            }
            h.processBothWatermarks(new Watermark(500));
            assertThat(snapshots(h)).isEqualTo(inOrder);
        }
        assertThat(inOrder).containsEntry("i8", "e3[e2 e1|e4 e6] e5[e4 e2|e6] recent[e6 e4]");
    }

    @Test
    void samplesWaitForTheWatermarkAndComeOutInEventTimeOrder() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(impression("u", "b", "b", 20), 20);
            h.processElement1(impression("u", "a", "a", 10), 10);
            assertThat(h.extractOutputValues()).isEmpty();
            h.processBothWatermarks(new Watermark(15));
            assertThat(h.extractOutputValues()).extracting(TrainingSample::getImpressionId).containsExactly("a");
            h.processBothWatermarks(new Watermark(25));
            assertThat(h.extractOutputValues()).extracting(TrainingSample::getImpressionId).containsExactly("a", "b");
            assertThat(h.extractOutputStreamRecords()).extracting(r -> r.getTimestamp()).containsExactly(10L, 20L);
        }
    }

    @Test
    void aClickAfterTheWindowDoesNotMakeAClick() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(impression("u", "i1", "e1", 10), 10);
            h.processElement2(click("u", "i1", 25), 25); // W = 10: window closed at 20
            h.processElement1(impression("u", "t", "t", 100), 100);
            h.processBothWatermarks(new Watermark(100));
            assertThat(snapshots(h)).containsEntry("t", "recent[e1]");
        }
    }

    @Test
    void theScorersGetTheLastExposuresClickedOrOpenAndALabelledSampleThoseOfItsAdAndCategory() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(withCategory(impression("u", "i1", "a", 10), "x"), 10);
            h.processElement1(withCategory(impression("u", "i2", "b", 20), "y"), 20);
            h.processElement2(click("u", "i2", 22), 22);
            h.processElement1(withCategory(impression("u", "i3", "a", 25), "x"), 25);
            h.processElement1(withCategory(impression("u", "i4", "c", 26), "x"), 26);
            h.processElement1(withCategory(impression("u", "target", "a", 28), "x"), 28);
            h.processBothWatermarks(new Watermark(100));

            Function<TrainingSample, String> listed = s -> s.getFeedback().getRecentExposures().stream()
                    .map(e -> e.getAdId() + "@" + e.getTimeMs() + (e.getClickTimeMs() == null ? "" : "c" + e.getClickTimeMs()))
                    .collect(Collectors.joining(" "));
            List<StreamRecord<EncodedSnapshot>> atTarget = h.getSideOutput(UserFeedbackFunction.FOR_SCORING).stream()
                    .filter(r -> r.getTimestamp() == 28).toList();
            assertThat(atTarget).hasSize(1);
            TrainingSample forScoring = TrainingSample.newBuilder(impression("u", "target", "a", 28))
                    .setFeedback(UserFeedbackFunction.decode(atTarget.get(0).getValue().bytes)).build();
            // i1's window closed unclicked, i2 clicked at 22, i3, i4 and the target itself still open at 28: all listed
            // for an auction later than 28; the target's own sample leaves the target out
            assertThat(listed.apply(forScoring)).isEqualTo("a@28 c@26 a@25 b@20c22 a@10");
            TrainingSample labelled = h.extractOutputValues().stream()
                    .filter(s -> s.getImpressionId().equals("target")).findFirst().orElseThrow();
            assertThat(listed.apply(labelled)).as("ad a and category x only").isEqualTo("c@26 a@25 a@10");
            assertThat(labelled.getFeedback().getClicks()).isEqualTo(forScoring.getFeedback().getClicks());
        }
    }

    private static TrainingSample withCategory(TrainingSample sample, String categoryId) {
        sample.setCategoryId(categoryId);
        return sample;
    }

    @Test
    void keepsOnlyTheLastLClicksAndPrunesWhatNoLaterSnapshotShows() throws Exception {
        FeedbackConfig lastTwo = FeedbackConfig.builder().maxClicks(3).unclicksPerSide(2).attributionWindowMs(10)
                .fatigueExposures(2).userIdleTimeoutMs(1_000).build();
        try (var h = harness(lastTwo)) {
            // 8 clicks, each followed by 3 unclicks: far more than L = 3 clicks with R = 2 per side.
            long t = 0;
            for (int c = 0; c < 8; c++) {
                t += 10;
                h.processElement1(impression("u", "c" + c, "c" + c, t), t);
                h.processElement2(click("u", "c" + c, t + 1), t + 1);
                for (int u = 0; u < 3; u++) {
                    t += 10;
                    h.processElement1(impression("u", "u" + c + u, "u" + c + u, t), t);
                }
            }
            h.processElement1(impression("u", "final", "f", 1_000), 1_000);
            h.processBothWatermarks(new Watermark(1_000));
            assertThat(snapshots(h)).containsEntry("final",
                    "c5[u42 u41|u50 u51] c6[u52 u51|u60 u61] c7[u62 u61|u70 u71] recent[u72 u71]");
            FeedbackTimeline timeline = timelineOf(h, "u");
            // kept: 3 clicks + 4 unclicks around each (overlapping) + recent + the hour's last N; the open target itself
            assertThat(timeline.size()).isLessThanOrEqualTo(3 + 3 * 4 + 2 + 2 + 1);
        }
    }

    @Test
    void duplicateAndOrphanClicksLeaveTheAlignmentAlone() throws Exception {
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processElement2(click("u", "i3", 35), 35);
            h.processElement2(click("u", "nowhere", 36), 36);
            h.processElement1(impression("u", "i8", "e8", 200), 200);
            h.processBothWatermarks(new Watermark(200));
            assertThat(snapshots(h)).containsEntry("i8", "e3[e2 e1|e4 e6] e5[e4 e2|e6 e7] recent[e7 e6]");
            assertThat(timelineOf(h, "u").unmatchedClicks).isEmpty();
        }
    }

    @Test
    void aClickStampedBeforeItsImpressionDoesNotHideALaterValidDuplicate() throws Exception {
        try (var h = harness(CONFIG)) {
            // both clicks arrive before the impression; the first is stamped before it (a dead letter
            // for attribution), the duplicate inside the window is the one that counts
            h.processElement2(click("u", "i1", 8), 8);
            h.processElement2(click("u", "i1", 12), 12);
            h.processElement1(impression("u", "i1", "e1", 10), 10);
            h.processElement1(impression("u", "t", "t", 100), 100);
            h.processBothWatermarks(new Watermark(100));
            assertThat(snapshots(h)).containsEntry("t", "e1[|] recent[]");
        }
    }

    @Test
    void theMirrorWritesTheSameWhetherAClickCameBeforeOrAfterItsImpressionWasAddedAnHourOn() throws Exception {
        // A click that comes before its impression is added sets a timer at its time + W that the other order does
        // not: the snapshot there must equal the last one mirrored, although the hour before it no longer holds e0.
        long hour = FeedbackConfig.FATIGUE_HORIZON_MS;
        FeedbackConfig notIdle = FeedbackConfig.builder().maxClicks(3).unclicksPerSide(2).attributionWindowMs(10)
                .userIdleTimeoutMs(10 * hour).mirrorIntervalMs(1).build();
        List<List<Long>> versionsByOrder = new java.util.ArrayList<>();
        for (boolean clickFirst : new boolean[] {true, false}) {
            try (var h = harness(notIdle)) {
                h.processElement1(impression("u", "i0", "e0", 30), 30);
                h.processBothWatermarks(new Watermark(hour - 100));
                if (clickFirst) {
                    h.processElement2(click("u", "i1", hour + 25), hour + 25); // waits: a timer at hour + 35
                }
                h.processElement1(impression("u", "i1", "e1", hour + 20), hour + 20);
                h.processBothWatermarks(new Watermark(hour + 22));
                if (!clickFirst) {
                    h.processElement2(click("u", "i1", hour + 25), hour + 25); // attaches at once
                }
                h.processBothWatermarks(new Watermark(hour + 100));
                versionsByOrder.add(h.getSideOutput(UserFeedbackFunction.REDIS_MIRROR).stream()
                        .map(r -> r.getValue().version).toList());
            }
        }
        assertThat(versionsByOrder.get(0)).isEqualTo(versionsByOrder.get(1)).contains(hour + 20, hour + 25);
    }

    @Test
    void mirrorsTheStateAsOfTheEndOfEachIntervalItChangedIn() throws Exception {
        FeedbackConfig everyHundred = FeedbackConfig.builder().maxClicks(3).unclicksPerSide(2).attributionWindowMs(10)
                .userIdleTimeoutMs(1_000).mirrorIntervalMs(100).build();
        try (var h = harness(everyHundred)) {
            baseSequence(h); // events from 10 to 80 (e7's window closing)
            h.processElement1(impression("u", "late", "e9", 150), 150);
            h.processBothWatermarks(new Watermark(400));
            List<VersionedWrite> writes = h.getSideOutput(UserFeedbackFunction.REDIS_MIRROR).stream()
                    .map(r -> r.getValue()).toList();
            assertThat(writes).extracting(w -> w.version).containsExactly(100L, 200L);
            assertThat(SnapshotText.of(UserFeedbackFunction.decode(writes.get(0).field(UserFeedbackFunction.FIELD_SNAPSHOT))))
                    .isEqualTo("e3[e2 e1|e4 e6] e5[e4 e2|e6 e7] recent[e7 e6]");
            assertThat(UserFeedbackFunction.decode(writes.get(1).field(UserFeedbackFunction.FIELD_SNAPSHOT))
                    .getRecentExposures()).extracting(e -> e.getAdId()).startsWith("e9", "e7", "e6");
        }
    }

    @Test
    void theWindowsClosingInOneMirrorIntervalShareOneTimerAndTheMirrorSeesThemClosed() throws Exception {
        FeedbackConfig everyHundred = FeedbackConfig.builder().maxClicks(3).unclicksPerSide(2).attributionWindowMs(5)
                .userIdleTimeoutMs(1_000).mirrorIntervalMs(100).build();
        try (var h = harness(everyHundred)) {
            for (long t : new long[] {110, 120, 130, 140}) {
                h.processElement1(impression("u", "i" + t, "a" + t, t), t);
            }
            // the four impression times and the interval's end (windows close at 115 to 145): no timer per window
            assertThat(h.numEventTimeTimers()).isEqualTo(5);
            h.processBothWatermarks(new Watermark(200));
            List<VersionedWrite> writes = h.getSideOutput(UserFeedbackFunction.REDIS_MIRROR).stream()
                    .map(r -> r.getValue()).toList();
            assertThat(writes).extracting(w -> w.version).containsExactly(200L);
            UserFeedbackSnapshot mirrored = UserFeedbackFunction.decode(writes.get(0).field(UserFeedbackFunction.FIELD_SNAPSHOT));
            assertThat(mirrored.getRecentUnclicks()).extracting(e -> e.getAdId()).containsExactly("a140", "a130");
        }
    }

    @Test
    void mirrorsTheCurrentStateToRedisWritesVersionedByEventTime() throws Exception {
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processBothWatermarks(new Watermark(100));
            List<VersionedWrite> writes = h.getSideOutput(UserFeedbackFunction.REDIS_MIRROR).stream()
                    .map(r -> r.getValue()).toList();
            assertThat(writes).isNotEmpty();
            assertThat(writes).extracting(w -> w.key).containsOnly("ctr:user:{u}:feedback");
            assertThat(writes).extracting(w -> w.version).isSorted().doesNotHaveDuplicates();
            VersionedWrite last = writes.get(writes.size() - 1);
            UserFeedbackSnapshot mirrored = UserFeedbackFunction.decode(last.field(UserFeedbackFunction.FIELD_SNAPSHOT));
            // the last change is e7's window closing at 80
            assertThat(last.version).isEqualTo(80);
            assertThat(SnapshotText.of(mirrored)).isEqualTo("e3[e2 e1|e4 e6] e5[e4 e2|e6 e7] recent[e7 e6]");
            assertThat(new String(last.field(UserFeedbackFunction.FIELD_CLICKS))).isEqualTo("2");
        }
    }

    @Test
    void aSnapshotWrittenWithTheSchemaBeforeTheClickCountIsStillReadWithACountOfZero() throws Exception {
        // The scorers' state and the Redis mirror hold snapshots across an upgrade, named by their schema's fingerprint.
        org.apache.avro.Schema v3 = org.ctrranker.schemas.SchemaHistory.versions(org.ctrranker.schemas.EventTopic.TRAINING_SAMPLES)
                .get(2).getField("feedback").schema().getTypes().stream()
                .filter(t -> t.getType() == org.apache.avro.Schema.Type.RECORD).findFirst().orElseThrow();
        assertThat(v3.getField("click_count")).isNull();
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(v3);
        old.put("as_of_ms", 42L);
        old.put("clicks", List.of());
        org.apache.avro.generic.GenericRecord unclick =
                new org.apache.avro.generic.GenericData.Record(v3.getField("recent_unclicks").schema().getElementType());
        unclick.put("ad_id", "ad-1");
        unclick.put("category_id", "cat");
        unclick.put("time_ms", 40L);
        old.put("recent_unclicks", List.of(unclick));
        java.nio.ByteBuffer bytes = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
                org.apache.avro.generic.GenericData.get(), v3).encode(old);
        byte[] encoded = new byte[bytes.remaining()];
        bytes.get(encoded);

        UserFeedbackSnapshot read = UserFeedbackFunction.decode(encoded);

        assertThat(read.getAsOfMs()).isEqualTo(42L);
        assertThat(read.getRecentUnclicks()).containsExactly(new org.ctrranker.events.Exposure("ad-1", "cat", 40L));
        assertThat(read.getClickCount()).isZero();
    }

    @Test
    void theMirrorSkipsASnapshotThatDiffersOnlyInItsTime() {
        UserFeedbackSnapshot a = new UserFeedbackSnapshot(5L, List.of(), List.of(new org.ctrranker.events.Exposure("x", "c", 1L)), 0L, null);
        UserFeedbackSnapshot later = new UserFeedbackSnapshot(1_700_000_000_000L, a.getClicks(), a.getRecentUnclicks(), 0L, null);
        UserFeedbackSnapshot other = new UserFeedbackSnapshot(5L, List.of(), List.of(new org.ctrranker.events.Exposure("y", "c", 1L)), 0L, null);
        long hash = UserFeedbackFunction.contentHashWithoutAsOf(UserFeedbackFunction.encode(a));
        assertThat(UserFeedbackFunction.contentHashWithoutAsOf(UserFeedbackFunction.encode(later))).isEqualTo(hash);
        assertThat(UserFeedbackFunction.contentHashWithoutAsOf(UserFeedbackFunction.encode(other))).isNotEqualTo(hash);
    }

    @Test
    void anIdleUserIsDroppedFromStateAfterTheIdleTimeout() throws Exception {
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processBothWatermarks(new Watermark(500));
            assertThat(h.numKeyedStateEntries()).isPositive();
            h.processBothWatermarks(new Watermark(70 + 1_000 + UserFeedbackFunction.IDLE_TIMER_GRID_MS));
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void anImpressionAtTheTimeOfAnEarlierIdleTimerStillGetsItsSample() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(impression("u", "first", "a", 10), 10);
            // the idle timer registered for "first" sits at the next grid step after 10 + 1000
            long earlierIdleTimer = UserFeedbackFunction.IDLE_TIMER_GRID_MS;
            h.processElement1(impression("u", "at-idle-time", "b", earlierIdleTimer), earlierIdleTimer);
            h.processBothWatermarks(new Watermark(earlierIdleTimer));
            assertThat(snapshots(h)).containsKeys("first", "at-idle-time");
            assertThat(h.numKeyedStateEntries()).isPositive();
        }
    }

    @Test
    void aUserBackAfterTheIdleTimeoutStartsAfreshWhetherItsReturnCameEarlyOrNot() throws Exception {
        long grid = UserFeedbackFunction.IDLE_TIMER_GRID_MS;
        long back = grid + 5; // just after the idle check of the base sequence (grid step after 70 + 1000)
        Map<String, String> returnArrivesLate;
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processBothWatermarks(new Watermark(back - 1));
            h.processElement1(impression("u", "back", "b", back), back);
            h.processBothWatermarks(new Watermark(Long.MAX_VALUE));
            returnArrivesLate = snapshots(h);
        }
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processBothWatermarks(new Watermark(500));
            h.processElement1(impression("u", "back", "b", back), back); // ahead of the watermark, before the check
            h.processBothWatermarks(new Watermark(Long.MAX_VALUE));
            assertThat(snapshots(h)).isEqualTo(returnArrivesLate);
        }
        assertThat(returnArrivesLate).containsEntry("back", "recent[]");
    }

    @Test
    void stateSurvivesACheckpointRestore() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState checkpoint;
        try (var h = harness(CONFIG)) {
            baseSequence(h);
            h.processBothWatermarks(new Watermark(60));
            checkpoint = h.snapshot(1L, 1L);
        }
        try (var restored = unopenedHarness(CONFIG)) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.processElement1(impression("u", "i8", "e8", 200), 200);
            restored.processBothWatermarks(new Watermark(200));
            assertThat(snapshots(restored)).containsEntry("i8", "e3[e2 e1|e4 e6] e5[e4 e2|e6 e7] recent[e7 e6]");
        }
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> harness(
            FeedbackConfig config) throws Exception {
        var h = unopenedHarness(config);
        h.open();
        return h;
    }

    /** The same harness on the RocksDB state backend (state serialized on every access). */
    static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> rocksDbHarness(
            FeedbackConfig config) throws Exception {
        var h = unopenedHarness(config, new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
        h.open();
        return h;
    }

    /** Output records are copied with the project's Avro serializer (Flink's own Avro support is not on the classpath). */
    static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> unopenedHarness(
            FeedbackConfig config) throws Exception {
        return unopenedHarness(config, null);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> unopenedHarness(
            FeedbackConfig config, org.apache.flink.runtime.state.StateBackend backend) throws Exception {
        return unopenedHarness(new UserFeedbackFunction(config), backend);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> unopenedHarness(
            UserFeedbackFunction function, org.apache.flink.runtime.state.StateBackend backend) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample>(
                new KeyedCoProcessOperator<>(function),
                TrainingSample::getUserId, AdClick::getUserId, Types.STRING);
        if (backend != null) {
            h.setStateBackend(backend); // before setup, which builds the operator's state backend
        }
        h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
        return h;
    }

    private static void baseSequence(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h)
            throws Exception {
        for (int i = 1; i <= 7; i++) {
            h.processElement1(impression("u", "i" + i, "e" + i, i * 10L), i * 10L);
        }
        h.processElement2(click("u", "i3", 32), 32);
        h.processElement2(click("u", "i5", 55), 55);
    }

    static Map<String, String> snapshots(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h) {
        return h.extractOutputValues().stream().collect(Collectors.toMap(TrainingSample::getImpressionId,
                s -> SnapshotText.of(s.getFeedback()), (a, b) -> a + " || " + b));
    }

    static List<Long> allExposureTimes(UserFeedbackSnapshot s) {
        return java.util.stream.Stream.concat(
                s.getClicks().stream().flatMap(c -> java.util.stream.Stream.concat(java.util.stream.Stream.of(c.getClick()),
                        java.util.stream.Stream.concat(c.getBefore().stream(), c.getAfter().stream()))),
                s.getRecentUnclicks().stream()).map(e -> e.getTimeMs()).toList();
    }

    private static FeedbackTimeline timelineOf(
            KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> h, String user)
            throws Exception {
        var operator = h.getOperator();
        operator.setCurrentKey(user);
        byte[] bytes = operator.getKeyedStateStore().getState(UserFeedbackFunction.timelineDescriptor(CONFIG)).value();
        return FeedbackTimelineCodec.decode(bytes, CONFIG);
    }
}
