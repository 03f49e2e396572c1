package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedMultiInputStreamOperatorTestHarness;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;
import org.ctrranker.operators.features.EncodedSnapshot;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.ByteDelta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scorer on Flink's operator harness: micro-batches close on size, on the processing-time delay and
 * before a checkpoint barrier (so a snapshot holds no buffered auction); an auction is scored with the
 * feedback snapshot and model version known at its request time minus the lag, waiting in state (across a
 * restore) for the watermark when they may still change; rankings are in eCPM order.
 */
class AuctionScorerTest {

    private static final long T0 = 1_767_571_200_000L;
    private static final long LAG = 10_000L;

    @Test
    void batchesCloseOnSizeOnDelayAndBeforeACheckpointBarrier() throws Exception {
        try (var harness = open(config(3, 50))) {
            harness.processAllWatermarks(new Watermark(T0 - LAG)); // every auction below is due at once
            harness.setProcessingTime(1_000);
            harness.processAuction(auction("a1", "u1", T0));
            harness.processAuction(auction("a2", "u2", T0));
            assertThat(scores(harness)).as("two auctions wait for a third or the delay").isEmpty();
            harness.processAuction(auction("a3", "u1", T0));
            assertThat(scores(harness)).as("size bound: 3 auctions x 3 candidates").hasSize(9);

            harness.processAuction(auction("a4", "u3", T0));
            harness.setProcessingTime(1_049);
            assertThat(scores(harness)).hasSize(9);
            harness.setProcessingTime(1_050);
            assertThat(scores(harness)).as("delay bound").hasSize(12);

            harness.processAuction(auction("a5", "u3", T0));
            harness.prepareSnapshotPreBarrier(1);
            assertThat(scores(harness)).as("flushed before the barrier").hasSize(15);
            OperatorSubtaskState snapshot = harness.snapshot(1, 1_100);
            try (var restored = harness(config(3, 50))) {
                restored.initializeState(snapshot);
                restored.open();
                restored.setProcessingTime(10_000);
                restored.processAllWatermarks(new Watermark(Long.MAX_VALUE));
                assertThat(scores(restored)).as("nothing pending in the checkpoint").isEmpty();
            }
        }
    }

    @Test
    void anAuctionTakesTheSnapshotAndVersionKnownAtRequestTimeMinusTheLagWaitingAcrossARestore() throws Exception {
        OnlineConfig config = config(1, 50);
        ModelUpdate v1 = trained(config, 1, 1);
        ModelUpdate v2 = trained(config, 2, 5);
        UserFeedbackSnapshot due = snapshot(T0 - 2 * LAG, "clicked-early");
        UserFeedbackSnapshot tooLate = snapshot(T0 - LAG / 2, "clicked-later");
        OperatorSubtaskState checkpoint;
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0 - 3 * LAG));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0 - 2 * LAG));
            harness.processFeedback(feedback("u9", due, T0 - 2 * LAG));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v2), T0 - LAG / 2));
            harness.processFeedback(feedback("u9", tooLate, T0 - LAG / 2));
            harness.processAuction(auction("a1", "u9", T0));
            harness.setProcessingTime(1_000);
            assertThat(scores(harness)).as("the watermark has not passed T0 - lag: a1 waits").isEmpty();
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1_000);
        }
        try (var restored = harness(config)) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.processAllWatermarks(new Watermark(T0 - LAG - 1));
            restored.setProcessingTime(2_000);
            assertThat(scores(restored)).isEmpty();
            restored.processAllWatermarks(new Watermark(T0 - LAG));
            List<CtrScore> a1 = scores(restored);
            assertThat(a1).as("scored when the timer at T0 - lag fired").hasSize(3)
                    .extracting(CtrScore::getModelVersion).containsOnly(1L);
            assertThat(byAd(a1)).as("v1 with the snapshot as of T0 - 2 lag, not the later ones")
                    .isEqualTo(expected(config, v1, due, auction("a1", "u9", T0)));
            assertThat(preloadedSwaps(restored)).as("the standby holds the newest version, v2: v1 is restored in place")
                    .isZero();

            // due at once (the watermark is at its T0 + lag - lag): v2 and the later snapshot apply now
            restored.processAllWatermarks(new Watermark(T0));
            restored.processAuction(auction("a2", "u9", T0 + LAG));
            List<CtrScore> a2 = scores(restored).subList(3, 6);
            assertThat(a2).extracting(CtrScore::getModelVersion).containsOnly(2L);
            assertThat(byAd(a2)).isEqualTo(expected(config, v2, tooLate, auction("a2", "u9", T0 + LAG)));
            assertEcpmOrder(a2);
            assertThat(preloadedSwaps(restored)).as("v2, restored from the checkpoint, was loaded off the scoring thread")
                    .isEqualTo(1L);
            assertThat(restored.getSideOutput(AuctionScorer.REDIS)).as("a ranking and user scores per auction").hasSize(4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void ofManySnapshotsAnAuctionTakesTheNewestDueAndPruningKeepsTheNewestBeforeTheWatermark(String backend)
            throws Exception {
        OnlineConfig config = config(1, 50);
        long first = T0 - 3 * LAG;
        int count = 12;
        UserFeedbackSnapshot[] kept = new UserFeedbackSnapshot[count];
        OperatorSubtaskState checkpoint;
        try (var harness = open(config, backend)) {
            harness.processAllWatermarks(new Watermark(first - 1));
            for (int k : new int[] {5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6}) { // out of order
                kept[k] = snapshot(first + k * 1_000L, "clicked-" + k);
                harness.processFeedback(feedback("u9", kept[k], first + k * 1_000L));
            }
            // a second snapshot at k = 4's time with an older as-of time: kept out
            harness.processFeedback(feedback("u9", snapshot(first + 3_500, "clicked-stale"), first + 4_000));
            harness.processAllWatermarks(new Watermark(first + 6_500));
            harness.processAuction(auction("a1", "u9", first + 5_500 + LAG));
            assertThat(byAd(scores(harness))).as("the newest at or before its time minus the lag: k = 5")
                    .isEqualTo(expected(config, null, kept[5], auction("a1", "u9", first + 5_500 + LAG)));
            harness.processAuction(auction("a2", "u9", first + 4_000 + LAG));
            assertThat(byAd(scores(harness).subList(3, 6))).as("k = 4 at its own time, not the stale one")
                    .isEqualTo(expected(config, null, kept[4], auction("a2", "u9", first + 4_000 + LAG)));
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1_000);
        }
        try (var restored = harness(config, backend)) {
            restored.initializeState(checkpoint);
            restored.open();
            // the prune timer at T0 - lag drops every snapshot older than the newest due then (k = 10 at T0 - 2 lag)
            restored.processAllWatermarks(new Watermark(T0 - LAG));
            assertThat(snapshotTimes(restored, "u9")).containsExactly(first + 10_000, first + 11_000);
            restored.processAuction(auction("a3", "u9", first + 10_700 + LAG));
            assertThat(byAd(scores(restored))).isEqualTo(expected(config, null, kept[10],
                    auction("a3", "u9", first + 10_700 + LAG)));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void snapshotsKeptBeforeTheirTimesWereIndexedAreFoundAndIndexed(String backend) throws Exception {
        OnlineConfig config = config(1, 50);
        UserFeedbackSnapshot older = snapshot(T0 - 3 * LAG, "clicked-older");
        UserFeedbackSnapshot newer = snapshot(T0 - 2 * LAG, "clicked-newer");
        try (var harness = open(config, backend)) {
            // as the scorer kept them before it had the index: the snapshots only
            MapState<Long, byte[]> written = rawSnapshots(harness, "u9");
            written.put(T0 - 2 * LAG, UserFeedbackFunction.encode(newer));
            written.put(T0 - 3 * LAG, UserFeedbackFunction.encode(older));
            harness.processAllWatermarks(new Watermark(T0 - LAG));
            harness.processAuction(auction("a1", "u9", T0));
            assertThat(byAd(scores(harness))).isEqualTo(expected(config, null, newer, auction("a1", "u9", T0)));
            assertThat(snapshotTimes(harness, "u9")).containsExactly(T0 - 3 * LAG, T0 - 2 * LAG);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aBusyUsersSnapshotsAreKeptAsShortDeltasThatReadBackWholeAcrossARestoreAndAPrune(String backend)
            throws Exception {
        OnlineConfig config = config(1, 50);
        long first = T0 - 3 * LAG;
        TreeMap<Long, byte[]> whole = new TreeMap<>();
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < 60; k++) {
            order.add(k);
        }
        for (int late : new int[] {10, 25, 40}) { // each arrives after its successors, between two kept ones
            order.remove(Integer.valueOf(late));
            order.add(late);
        }
        OperatorSubtaskState checkpoint;
        try (var harness = open(config, backend)) {
            harness.processAllWatermarks(new Watermark(first - 1));
            for (int k : order) {
                long at = first + k * 300L;
                byte[] bytes = UserFeedbackFunction.encode(busyUser(at, 200 + k));
                harness.processFeedback(new StreamRecord<>(new EncodedSnapshot("u9", bytes), at));
                whole.put(at, bytes);
            }
            long replacedAt = first + 30 * 300L;
            byte[] replacement = UserFeedbackFunction.encode(busyUser(replacedAt + 100, 231)); // a later as-of time
            harness.processFeedback(new StreamRecord<>(new EncodedSnapshot("u9", replacement), replacedAt));
            whole.put(replacedAt, replacement);
            assertKeptAsDeltasReadingBackWhole(harness, whole, 50);
            checkpoint = harness.snapshot(1, 1_000);
        }
        try (var restored = harness(config, backend)) {
            restored.initializeState(checkpoint);
            restored.open();
            assertKeptAsDeltasReadingBackWhole(restored, whole, 50);
            // the prune at first + 2 lag keeps the newest due at first + lag (k = 33) and those after it
            restored.processAllWatermarks(new Watermark(first + 2 * LAG));
            whole.headMap(first + 33 * 300L).clear();
            assertThat(rawSnapshots(restored, "u9").get(whole.firstKey())).as("the first kept is whole")
                    .isEqualTo(whole.firstEntry().getValue());
            assertKeptAsDeltasReadingBackWhole(restored, whole, 20);
        }
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @CsvSource({"hashmap, 1", "hashmap, 2", "rocksdb, 3"})
    void snapshotsKeptReplacedReadPrunedAndClearedInAnyOrderForSeveralUsersReadBackAsKept(String backend, int seed)
            throws Exception {
        Random random = new Random(seed);
        Map<String, TreeMap<Long, byte[]>> expected = new HashMap<>();
        try (var harness = open(config(1, 50), backend)) {
            var keyed = harness.scorer().getKeyedStateBackend();
            UserSnapshots kept = userSnapshots(harness, "u0"); // for whichever user is current
            long clock = T0;
            for (int step = 0; step < 3_000; step++) {
                String user = "u" + random.nextInt(3);
                keyed.setCurrentKey(user);
                TreeMap<Long, byte[]> reference = expected.computeIfAbsent(user, u -> new TreeMap<>());
                clock += random.nextInt(400);
                long at = random.nextInt(10) < 8 ? clock : clock - random.nextInt(20_000);
                if (!reference.isEmpty() && random.nextInt(10) == 0) {
                    at = reference.floorKey(at) == null ? reference.firstKey() : reference.floorKey(at);
                }
                int op = random.nextInt(100);
                if (op < 60) {
                    byte[] snapshot = UserFeedbackFunction.encode(
                            busyUser(at + random.nextInt(3), 10 + (int) Math.min(290, (at - T0) / 500)));
                    kept.keep(at, snapshot);
                    byte[] existing = reference.get(at);
                    long asOf = UserFeedbackFunction.asOfMs(snapshot);
                    if (existing == null || asOf > UserFeedbackFunction.asOfMs(existing)
                            || asOf == UserFeedbackFunction.asOfMs(existing)
                                    && Arrays.compareUnsigned(snapshot, existing) > 0) {
                        reference.put(at, snapshot);
                    }
                } else if (op < 88) {
                    Map.Entry<Long, byte[]> due = reference.floorEntry(at);
                    assertThat(kept.at(at)).as("step %d, %s at %d", step, user, at)
                            .isEqualTo(due == null ? null : due.getValue());
                } else if (op < 98) {
                    kept.pruneBefore(at);
                    Long newestDue = reference.floorKey(at);
                    if (newestDue != null) {
                        reference.headMap(newestDue).clear();
                    }
                } else {
                    kept.clear();
                    reference.clear();
                }
                assertThat(kept.times()).as("step %d", step)
                        .containsExactly(reference.keySet().stream().mapToLong(Long::longValue).toArray());
            }
            for (Map.Entry<String, TreeMap<Long, byte[]>> user : expected.entrySet()) {
                keyed.setCurrentKey(user.getKey());
                UserSnapshots fresh = userSnapshots(harness, user.getKey()); // nothing remembered: the state alone
                for (Map.Entry<Long, byte[]> e : user.getValue().entrySet()) {
                    assertThat(fresh.at(e.getKey())).isEqualTo(e.getValue());
                }
            }
        }
    }

    /** Every kept time reads back as it was written; at least {@code deltas} are stored as deltas, in short chains. */
    private static void assertKeptAsDeltasReadingBackWhole(ScorerHarness harness, TreeMap<Long, byte[]> whole,
            int deltas) throws Exception {
        UserSnapshots kept = userSnapshots(harness, "u9");
        assertThat(kept.times()).containsExactly(whole.keySet().stream().mapToLong(Long::longValue).toArray());
        for (Map.Entry<Long, byte[]> e : whole.entrySet()) {
            assertThat(kept.at(e.getKey() + 299)).as("at %d", e.getKey()).isEqualTo(e.getValue());
        }
        MapState<Long, byte[]> stored = rawSnapshots(harness, "u9");
        long storedBytes = 0;
        long wholeBytes = 0;
        int chain = 0;
        int stillDeltas = 0;
        for (Map.Entry<Long, byte[]> e : whole.entrySet()) {
            byte[] value = stored.get(e.getKey());
            storedBytes += value.length;
            wholeBytes += e.getValue().length;
            chain = ByteDelta.isDelta(value) ? chain + 1 : 0;
            stillDeltas += ByteDelta.isDelta(value) ? 1 : 0;
            assertThat(chain).as("deltas a read applies at %d", e.getKey()).isLessThan(UserSnapshots.MAX_CHAIN);
        }
        assertThat(stillDeltas).isGreaterThanOrEqualTo(deltas);
        assertThat(storedBytes).as("stored of %d bytes whole", wholeBytes).isLessThan(wholeBytes / 5);
    }

    /** A user's snapshot as of {@code asOf}: {@code exposures} exposures a second apart from T0 - 1 h, each 7th clicked. */
    private static UserFeedbackSnapshot busyUser(long asOf, int exposures) {
        List<RecentExposure> recent = new ArrayList<>();
        for (int i = exposures - 1; i >= 0; i--) {
            long time = T0 - 3_600_000L + i * 1_000L;
            recent.add(new RecentExposure("ad-" + i % 37, "cat-" + i % 5, time, i % 7 == 0 ? time + 300 : null));
        }
        return new UserFeedbackSnapshot(asOf, List.of(), List.of(), (long) exposures / 7, recent);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aUserIdleForTheTimeoutLosesItsSnapshotsAndAnActiveOneKeepsThem(String backend) throws Exception {
        Map<String, String> settings = settings(1, 50);
        long hour = 3_600_000L;
        settings.put("ctr.features.feedback.user-idle-timeout-ms", Long.toString(2 * hour));
        OnlineConfig config = OnlineConfig.fromSettings(settings);
        long start = T0 - 10 * hour; // on the hourly grid, as T0 is
        UserFeedbackSnapshot idle = snapshot(start + 1_000, "clicked-idle");
        UserFeedbackSnapshot active = snapshot(start + 1_000, "clicked-active");
        try (var harness = open(config, backend)) {
            harness.processAllWatermarks(new Watermark(start));
            harness.processFeedback(feedback("u-idle", idle, start + 1_000));
            harness.processFeedback(feedback("u-active", active, start + 1_000));
            UserFeedbackSnapshot later = snapshot(start + hour + 30 * 60_000, "clicked-later");
            harness.processAllWatermarks(new Watermark(start + hour));
            harness.processFeedback(feedback("u-active", later, start + hour + 30 * 60_000));

            harness.processAllWatermarks(new Watermark(start + 3 * hour - 1));
            assertThat(snapshotTimes(harness, "u-idle")).as("idle for less than the timeout").hasSize(1);
            harness.processAllWatermarks(new Watermark(start + 3 * hour));
            assertThat(snapshotTimes(harness, "u-idle")).as("idle for the timeout at the grid's check").isNull();
            assertThat(snapshotTimes(harness, "u-active")).as("a snapshot within the timeout").hasSize(1);
            harness.processAuction(auction("a1", "u-idle", start + 3 * hour + LAG));
            assertThat(byAd(scores(harness))).as("scored without a history")
                    .isEqualTo(expected(config, null, null, auction("a1", "u-idle", start + 3 * hour + LAG)));
            harness.processAuction(auction("a2", "u-active", start + 3 * hour + LAG));
            assertThat(byAd(scores(harness).subList(3, 6)))
                    .isEqualTo(expected(config, null, later, auction("a2", "u-active", start + 3 * hour + LAG)));
            harness.processAllWatermarks(new Watermark(start + 4 * hour));
            assertThat(snapshotTimes(harness, "u-active")).isNull();
        }
    }

    @Test
    void pastTheMaxWaitAnAuctionIsScoredWithTheInputsThatHaveArrivedAndOnlyOnce() throws Exception {
        Map<String, String> settings = settings(1, 50);
        settings.put("ctr.scoring.max-wait-ms", "100");
        OnlineConfig config = OnlineConfig.fromSettings(settings);
        ModelUpdate v1 = trained(config, 1, 1);
        UserFeedbackSnapshot due = snapshot(T0 - 2 * LAG, "clicked-early");
        try (var harness = open(config)) {
            // the version watermark stalls (a trainer behind) far before T0 - lag
            harness.processAllWatermarks(new Watermark(T0 - 3 * LAG));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0 - 2 * LAG));
            harness.processFeedback(feedback("u9", due, T0 - 2 * LAG));
            harness.setProcessingTime(1_000);
            harness.processAuction(auction("a1", "u9", T0));
            harness.setProcessingTime(1_099);
            assertThat(scores(harness)).as("within the max wait").isEmpty();
            harness.setProcessingTime(1_100);
            List<CtrScore> a1 = scores(harness);
            assertThat(a1).as("scored at the max wait, the watermark still behind").hasSize(3)
                    .extracting(CtrScore::getModelVersion).containsOnly(1L);
            assertThat(byAd(a1)).as("with the version and snapshot as of T0 - lag that had arrived")
                    .isEqualTo(expected(config, v1, due, auction("a1", "u9", T0)));

            harness.processAllWatermarks(new Watermark(T0));
            harness.setProcessingTime(5_000);
            assertThat(scores(harness)).as("the watermark's timer finds it scored already").hasSize(3);
            harness.processAuction(auction("a2", "u9", T0 + LAG));
            assertThat(scores(harness)).as("due at once: no wait").hasSize(6);
        }
        settings.put("ctr.scoring.max-wait-ms", "-1");
        assertThatThrownBy(() -> OnlineConfig.fromSettings(settings))
                .hasMessage("ctr.scoring.max-wait-ms=-1 must be at least 0");
    }

    @Test
    void versionsOfAnotherModelShapeInTheRestoredStateAreRefusedUnlessTheSettingsSayToDropThem() throws Exception {
        OnlineConfig config = config(1, 50);
        ModelUpdate v1 = trained(config, 1, 1);
        OperatorSubtaskState checkpoint;
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0 - 3 * LAG));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0 - 2 * LAG));
            checkpoint = harness.snapshot(1, 1_000);
        }
        Map<String, String> reshaped = settings(1, 50);
        reshaped.put("ctr.model.hidden-layers", "6");
        try (var restored = harness(OnlineConfig.fromSettings(reshaped))) {
            restored.initializeState(checkpoint);
            assertThatThrownBy(restored::open).hasMessageContaining("model version 1 in the restored state is of a model")
                    .hasMessageContaining(OnlineConfig.RESET_MODEL_ON_SHAPE_CHANGE + "=true");
        }
        reshaped.put(OnlineConfig.RESET_MODEL_ON_SHAPE_CHANGE, "true");
        OnlineConfig reset = OnlineConfig.fromSettings(reshaped);
        try (var restored = harness(reset)) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.processAllWatermarks(new Watermark(T0 + LAG));
            restored.processAuction(auction("a1", "u1", T0));
            restored.setProcessingTime(2_000);
            List<CtrScore> a1 = scores(restored);
            assertThat(a1).as("the initial weights of the new shape, v1 dropped").hasSize(3)
                    .extracting(CtrScore::getModelVersion).containsOnly(0L);
            assertThat(byAd(a1)).isEqualTo(expected(reset, null, null, auction("a1", "u1", T0)));
        }
    }

    @Test
    void eachCandidateTakesItsAdsCountsAsOfTheAuctionsPointInTime() throws Exception {
        OnlineConfig config = config(1, 50);
        ModelUpdate v1 = trained(config, 1, 1);
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0 - 3 * LAG));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0 - 3 * LAG));
            harness.processVersion(tick("ad-1", T0 - 2 * LAG, 40, 10));
            harness.processVersion(tick("ad-1", T0 - LAG, 50, 30)); // due exactly at T0's point in time
            harness.processVersion(tick("ad-1", T0 - LAG + 1, 900, 0)); // one millisecond too late for T0
            harness.processVersion(tick("ad-3", T0 - LAG / 2, 10, 5)); // too late for T0
            harness.processAuction(auction("a1", "u1", T0)); // waits for its point in time, T0 - lag
            harness.processAllWatermarks(new Watermark(T0 + LAG));
            harness.setProcessingTime(1_000);

            Map<String, ItemCounts> asOfPointInTime = Map.of("ad-1", new ItemCounts(T0 - LAG, 50L, 30L));
            assertThat(byAd(scores(harness)))
                    .isEqualTo(expected(config, v1, null, auction("a1", "u1", T0), asOfPointInTime))
                    .isNotEqualTo(expected(config, v1, null, auction("a1", "u1", T0)));
        }
    }

    private static StreamRecord<RoutedVersion> tick(String adId, long asOfMs, long impressions, long clicks) {
        return new StreamRecord<>(new RoutedVersion("scorer-0",
                new org.ctrranker.operators.features.ItemTick(adId, asOfMs, impressions, clicks)), asOfMs);
    }

    @Test
    void aBackfillAuctionIsNeverScoredButItsSamplesStillFeedTheUsersSnapshot() throws Exception {
        OnlineConfig config = config(1, 50);
        UserFeedbackSnapshot history = snapshot(T0 - 2 * LAG, "clicked-in-history");
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0 - 3 * LAG));
            // a replayed-history auction and the snapshot its (backfill) sample made, then a live auction of the user
            StreamRecord<AdAuction> replayed = auction("h1", "u9", T0 - 2 * LAG);
            replayed.getValue().setBackfill(true);
            harness.processAuction(replayed);
            harness.processFeedback(feedback("u9", history, T0 - 2 * LAG));
            harness.processAllWatermarks(new Watermark(T0));
            harness.setProcessingTime(1_000);
            assertThat(scores(harness)).as("a backfill auction is neither scored nor ranked").isEmpty();
            assertThat(harness.getSideOutput(AuctionScorer.REDIS)).as("nor written to Redis").isNullOrEmpty();

            harness.processAuction(auction("a1", "u9", T0));
            List<CtrScore> live = scores(harness);
            assertThat(live).hasSize(3).extracting(CtrScore::getAuctionId).containsOnly("a1");
            assertThat(byAd(live)).as("the live auction sees the history the backfill sample carried")
                    .isEqualTo(expected(config, null, history, auction("a1", "u9", T0)))
                    .isNotEqualTo(expected(config, null, null, auction("a1", "u9", T0)));
        }
    }

    @Test
    void aMicroBatchMixingVersionsScoresEachAuctionWithItsOwn() throws Exception {
        OnlineConfig config = config(3, 50);
        ModelUpdate v1 = trained(config, 1, 1);
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0 - 3 * LAG));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0 - LAG));
            harness.processAllWatermarks(new Watermark(T0 + LAG));
            harness.processAuction(auction("new", "u1", T0 + LAG));
            harness.processAuction(auction("old", "u2", T0 - LAG / 2));
            harness.processAuction(auction("newer", "u3", T0 + 2 * LAG));
            List<CtrScore> scores = scores(harness);
            assertThat(scores).hasSize(9);
            Map<String, Long> versionByAuction = new HashMap<>();
            scores.forEach(s -> versionByAuction.put(s.getAuctionId(), s.getModelVersion()));
            assertThat(versionByAuction).containsEntry("old", 0L).containsEntry("new", 1L).containsEntry("newer", 1L);
            assertThat(byAd(scores.stream().filter(s -> s.getAuctionId().equals("old")).toList()))
                    .isEqualTo(expected(config, null, null, auction("old", "u2", T0 - LAG / 2)));
            assertThat(byAd(scores.stream().filter(s -> s.getAuctionId().equals("new")).toList()))
                    .isEqualTo(expected(config, v1, null, auction("new", "u1", T0 + LAG)));
            assertThat(preloadedSwaps(harness)).as("v1 was loaded off the scoring thread when it arrived").isEqualTo(1L);

            // An auction due before v1 after the swap: back to the initial weights, which the standby still holds.
            harness.processAuction(auction("old-again", "u4", T0 - LAG / 2));
            harness.setProcessingTime(harness.getProcessingTime() + 50);
            List<CtrScore> again = scores(harness).subList(9, 12);
            assertThat(again).extracting(CtrScore::getModelVersion).containsOnly(0L);
            assertThat(byAd(again)).isEqualTo(expected(config, null, null, auction("old-again", "u4", T0 - LAG / 2)));
            assertThat(preloadedSwaps(harness)).as("the swap back is a change of reference too").isEqualTo(2L);
        }
    }

    /** bench e2e polls it: how far the scorer's event time trails, with no metrics reporter. */
    @Test
    void theScorersCurrentWatermarkIsAnAccumulator() throws Exception {
        try (var harness = open(config(1, 50))) {
            var accumulators = harness.getEnvironment().getAccumulatorRegistry().getUserMap();
            assertThat(accumulators.get("scorerWatermarkMs").getLocalValue()).isEqualTo(Long.MIN_VALUE);
            harness.processWatermark(AuctionScorer.AUCTIONS_INPUT - 1, new Watermark(T0));
            harness.processWatermark(AuctionScorer.VERSIONS_INPUT - 1, new Watermark(T0 - LAG / 2));
            assertThat(accumulators.get("scorerWatermarkMs").getLocalValue())
                    .as("the feedback input has no watermark yet: neither has the operator").isEqualTo(Long.MIN_VALUE);
            harness.processWatermark(AuctionScorer.FEEDBACK_INPUT - 1, new Watermark(T0 - LAG));
            assertThat(accumulators.get("scorerWatermarkMs").getLocalValue()).isEqualTo(T0 - LAG);
            assertThat(accumulators.get(AuctionScorer.AUCTIONS_WATERMARK).getLocalValue()).as("which input trails")
                    .isEqualTo(T0);
            assertThat(accumulators.get(AuctionScorer.FEEDBACK_WATERMARK).getLocalValue()).isEqualTo(T0 - LAG);
            assertThat(accumulators.get(AuctionScorer.VERSIONS_WATERMARK).getLocalValue()).isEqualTo(T0 - LAG / 2);
            harness.processAllWatermarks(new Watermark(T0 + LAG));
            assertThat(accumulators.get("scorerWatermarkMs").getLocalValue()).isEqualTo(T0 + LAG);
            assertThat(accumulators.get(AuctionScorer.VERSIONS_WATERMARK).getLocalValue()).isEqualTo(T0 + LAG);
        }
    }

    @Test
    void anInjectedFailureComesOncePerJobWithTheFirstCompletedCheckpointHoldingAVersionAfterTheCount() throws Exception {
        Map<String, String> settings = settings(1, 50);
        settings.put("ctr.fault-injection.scorer-fail-after-auctions", "2");
        OnlineConfig config = OnlineConfig.fromSettings(settings);
        ModelUpdate v1 = trained(config, 1, 1);
        OperatorSubtaskState withoutVersion;
        OperatorSubtaskState marked;
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0));
            harness.processAuction(auction("a1", "u1", T0));
            harness.processAuction(auction("a2", "u1", T0));
            harness.prepareSnapshotPreBarrier(1);
            withoutVersion = harness.snapshot(1, 1);
            harness.notifyOfCompletedCheckpoint(1);
            assertThat(scores(harness)).as("past the count, but a restart from checkpoint 1 would restore no version")
                    .hasSize(6);
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0));
            marked = harness.snapshot(2, 2);
            harness.snapshot(3, 3);
            assertThatThrownBy(() -> harness.notifyOfCompletedCheckpoint(3)).as("checkpoint 2 was declined; 3 holds the mark too")
                    .hasMessageStartingWith("injected failure: ").hasMessageContaining("at checkpoint 3");
        }
        try (var restored = harness(config)) {
            restored.initializeState(marked);
            restored.open();
            restored.processAllWatermarks(new Watermark(T0 + 1));
            restored.processAuction(auction("a3", "u1", T0 + 1));
            restored.processAuction(auction("a4", "u1", T0 + 1));
            restored.prepareSnapshotPreBarrier(4);
            restored.snapshot(4, 4);
            restored.notifyOfCompletedCheckpoint(4);
            assertThat(scores(restored)).as("the restored mark: no second failure").hasSize(6);
        }
        try (var restored = harness(config)) {
            restored.initializeState(withoutVersion);
            restored.open();
            restored.processAllWatermarks(new Watermark(T0 + 1));
            restored.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0));
            restored.processAuction(auction("a3", "u1", T0 + 1));
            restored.processAuction(auction("a4", "u1", T0 + 1));
            restored.prepareSnapshotPreBarrier(2);
            restored.snapshot(2, 2);
            assertThatThrownBy(() -> restored.notifyOfCompletedCheckpoint(2))
                    .as("restored from a checkpoint before the mark (a restart of another cause): it fails still")
                    .hasMessageStartingWith("injected failure: ");
        }
        try (var harness = open(config)) {
            harness.processAllWatermarks(new Watermark(T0));
            harness.processVersion(new StreamRecord<>(new RoutedVersion("scorer-0", v1), T0));
            harness.processAuction(auction("a1", "u1", T0));
            harness.processAuction(auction("a2", "u1", T0));
            harness.scorer().finish();
            harness.snapshot(1, 1);
            harness.notifyOfCompletedCheckpoint(1);
            assertThat(scores(harness)).as("a checkpoint of a finished scorer restores none of its state: no failure there")
                    .hasSize(6);
        }
    }

    /** Without replay-exact calls the scorer calls the model plainly: the same pCTR up to float rounding. */
    @Test
    void plainModelCallsScoreLikeTheInvariantOnesUpToRounding() throws Exception {
        Map<String, String> settings = settings(2, 50);
        settings.put("ctr.scoring.replay-exact", "false");
        OnlineConfig plain = OnlineConfig.fromSettings(settings);
        try (var harness = open(plain)) {
            harness.processAllWatermarks(new Watermark(T0 - LAG));
            var first = auction("a1", "u1", T0);
            harness.processAuction(first);
            harness.processAuction(auction("a2", "u2", T0));
            List<CtrScore> scored = scores(harness);
            assertThat(scored).hasSize(6);
            Map<String, Float> expected = expected(config(2, 50), null, null, first);
            scored.stream().filter(s -> s.getAuctionId().equals("a1"))
                    .forEach(s -> assertThat((float) s.getPctr()).isCloseTo(expected.get(s.getAdId()), within(1e-6f)));
        }
        settings.put("ctr.scoring.replay-exact", "sometimes");
        assertThatThrownBy(() -> OnlineConfig.fromSettings(settings))
                .hasMessage("ctr.scoring.replay-exact=sometimes must be true or false");
    }

    @Test
    void aLagNotAboveTheOutOfOrdernessIsRejectedNamingTheFix() {
        Map<String, String> settings = settings(1, 50);
        settings.put("ctr.watermark.max-out-of-orderness-ms", Long.toString(LAG));
        assertThatThrownBy(() -> OnlineConfig.fromSettings(settings))
                .hasMessageContaining("ctr.scoring.state-lag-ms=10000 must exceed ctr.watermark.max-out-of-orderness-ms=10000")
                .hasMessageContaining("raise the lag");
    }

    /** A version whose weights differ from the initial ones (trained on {@code steps} copies of a sample). */
    private static ModelUpdate trained(OnlineConfig config, long version, int steps) {
        try (CtrModel model = CtrModel.create(config.modelConfig())) {
            for (int i = 0; i < steps; i++) {
                model.train(List.of(ModelInputs.sample(sample())));
            }
            ModelUpdate update = new ModelUpdate();
            update.modelName = "ctr";
            update.version = version;
            update.live = true;
            update.parameters = model.snapshot();
            return update;
        }
    }

    /** pCTR by ad of {@code auction} scored by {@code version} (null: initial) with {@code snapshot}'s history. */
    private static Map<String, Float> expected(OnlineConfig config, ModelUpdate version, UserFeedbackSnapshot snapshot,
            StreamRecord<AdAuction> record) {
        return expected(config, version, snapshot, record, Map.of());
    }

    /** As above, with the ads' counts by ad id (absent: never counted). */
    private static Map<String, Float> expected(OnlineConfig config, ModelUpdate version, UserFeedbackSnapshot snapshot,
            StreamRecord<AdAuction> record, Map<String, ItemCounts> counts) {
        AdAuction auction = record.getValue();
        try (CtrModel model = CtrModel.create(config.modelConfig())) {
            if (version != null) {
                model.restore(version.parameters);
            }
            UserHistory history = snapshot == null ? UserHistory.EMPTY
                    : ModelInputs.history(snapshot, auction.getRequestTimeMs(), config.attributionWindowMs());
            List<org.ctrranker.models.Features> candidates = new ArrayList<>();
            auction.getCandidates().forEach(c -> candidates.add(
                    ModelInputs.candidate(auction, c, ModelInputs.UserFatigue.of(
                            snapshot, auction.getRequestTimeMs(), config.attributionWindowMs()), counts.get(c.getAdId()))));
            List<ScoringRequest> request = List.of(new ScoringRequest(history, candidates));
            float[] pctr = (config.replayExactScores() ? model.scoreBatchInvariant(request) : model.score(request))[0];
            Map<String, Float> byAd = new HashMap<>();
            for (int c = 0; c < pctr.length; c++) {
                byAd.put(auction.getCandidates().get(c).getAdId(), pctr[c]);
            }
            return byAd;
        }
    }

    private static long preloadedSwaps(ScorerHarness harness) {
        return harness.getEnvironment().getAccumulatorRegistry().getUserMap().get("scorerPreloadedSwaps").getLocalValue() instanceof Long n ? n : -1;
    }

    private static Map<String, Float> byAd(List<CtrScore> scores) {
        Map<String, Float> byAd = new HashMap<>();
        scores.forEach(s -> byAd.put(s.getAdId(), (float) s.getPctr()));
        return byAd;
    }

    private static UserFeedbackSnapshot snapshot(long asOf, String clickedAd) {
        AlignedClick click = new AlignedClick(new Exposure(clickedAd, "cat-1", asOf - 1_000),
                List.of(new Exposure("ad-2", "cat-2", asOf - 2_000)), List.of());
        return new UserFeedbackSnapshot(asOf, List.of(click), List.of(), 1L, null);
    }

    private static StreamRecord<EncodedSnapshot> feedback(String userId, UserFeedbackSnapshot snapshot,
            long timestamp) {
        return new StreamRecord<>(new EncodedSnapshot(userId, UserFeedbackFunction.encode(snapshot)), timestamp);
    }

    private static void assertEcpmOrder(List<CtrScore> ranked) {
        for (int i = 0; i < ranked.size(); i++) {
            CtrScore s = ranked.get(i);
            assertThat(s.getRank()).isEqualTo(i + 1);
            assertThat(s.getEcpm()).isEqualTo(s.getPctr() * s.getBidMicros());
            if (i > 0) {
                assertThat(s.getEcpm()).isLessThanOrEqualTo(ranked.get(i - 1).getEcpm());
            }
        }
    }

    private static List<CtrScore> scores(ScorerHarness harness) {
        List<CtrScore> out = new ArrayList<>();
        for (Object o : harness.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof CtrScore s) {
                out.add(s);
            }
        }
        return out;
    }

    private static StreamRecord<AdAuction> auction(String auctionId, String userId, long t) {
        AdAuction auction = new AdAuction(auctionId, t, userId, new Scenario("page", "slot-1", null, 300, 250, null, null),
                new RequestContext(null, null, null, null, 10, 1, List.of("seg-1")), Pricing.CPC, 50_000L,
                List.of(new Candidate("ad-1", "c1", "adv1", "cat-1", 900_000L),
                        new Candidate("ad-2", "c2", "adv2", "cat-2", 600_000L),
                        new Candidate("ad-3", "c3", "adv3", "cat-1", 2_000_000L)),
                List.of(new AuctionWinner("ad-1", 1, 600_000L)), false);
        return new StreamRecord<>(auction, t);
    }

    private static TrainingSample sample() {
        AdAuction auction = auction("a0", "u9", T0).getValue();
        TrainingSample s = org.ctrranker.operators.joins.ImpressionSamples.of(auction,
                new org.ctrranker.events.AdImpression("i0", "a0", "u9", "ad-1", 1, T0), 60_000);
        s.setLabel(1);
        return s;
    }

    private static ScorerHarness harness(OnlineConfig config) throws Exception {
        return harness(config, "hashmap");
    }

    private static ScorerHarness open(OnlineConfig config) throws Exception {
        var harness = harness(config);
        harness.open();
        return harness;
    }

    private static org.apache.flink.runtime.state.KeyedStateBackend<Object> keyedState(
            ScorerHarness harness, String user) {
        org.apache.flink.runtime.state.KeyedStateBackend<Object> backend = harness.scorer().getKeyedStateBackend();
        backend.setCurrentKey(user);
        return backend;
    }

    private static MapState<Long, byte[]> rawSnapshots(ScorerHarness harness, String user) throws Exception {
        return keyedState(harness, user).getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                new MapStateDescriptor<>("feedback-snapshots", BasicTypeInfo.LONG_TYPE_INFO,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    private static UserSnapshots userSnapshots(ScorerHarness harness, String user) throws Exception {
        return new UserSnapshots(rawSnapshots(harness, user), timesState(harness, user),
                harness.scorer().getKeyedStateBackend()::getCurrentKey);
    }

    /** The scorer's index of the user's snapshot times (null when it has none). */
    private static long[] snapshotTimes(ScorerHarness harness, String user) throws Exception {
        return timesState(harness, user).value();
    }

    private static ValueState<long[]> timesState(ScorerHarness harness, String user) throws Exception {
        return keyedState(harness, user).getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                new ValueStateDescriptor<>("feedback-snapshot-times",
                        PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    private static ScorerHarness harness(OnlineConfig config, String backend) throws Exception {
        var harness = new ScorerHarness(config);
        if (backend.equals("rocksdb")) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend()); // before setup, which builds the backend
        }
        harness.setup(AvroTypeInfo.forRecord(CtrScore.class).createSerializer(new SerializerConfigImpl()));
        return harness;
    }

    private static ScorerHarness open(OnlineConfig config, String backend) throws Exception {
        var harness = harness(config, backend);
        harness.open();
        assertThat(harness.scorer().getKeyedStateBackend().getClass().getSimpleName())
                .startsWith(backend.equals("rocksdb") ? "RocksDB" : "Heap");
        return harness;
    }

    static OnlineConfig config(int batchMaxAuctions, long batchMaxDelayMs) {
        return OnlineConfig.fromSettings(settings(batchMaxAuctions, batchMaxDelayMs));
    }

    static Map<String, String> settings(int batchMaxAuctions, long batchMaxDelayMs) {
        Map<String, String> s = new HashMap<>();
        s.put("ctr.model.name", "ctr");
        s.put("ctr.model.device", "cpu");
        s.put("ctr.model.embedding-dim", "4");
        s.put("ctr.model.hash-buckets", "256");
        s.put("ctr.model.hidden-layers", "8");
        s.put("ctr.model.learning-rate", "0.01");
        s.put("ctr.model.seed", "7");
        s.put("ctr.features.feedback.max-clicks", "5");
        s.put("ctr.features.feedback.unclicks-per-side", "2");
        s.put("ctr.scoring.batch-max-auctions", Integer.toString(batchMaxAuctions));
        s.put("ctr.scoring.batch-max-delay-ms", Long.toString(batchMaxDelayMs));
        s.put("ctr.scoring.state-lag-ms", Long.toString(LAG));
        // waits for the watermark however long: these tests move processing time freely
        s.put("ctr.scoring.max-wait-ms", "0");
        s.put("ctr.training.batch-size", "4");
        s.put("ctr.training.publish-every-samples", "8");
        s.put("ctr.training.metrics-window", "100");
        s.put("ctr.attribution.window-ms", "60000");
        s.put("ctr.redis.key-prefix", "t");
        s.put("ctr.scoring.ranking-redis-ttl-ms", "1000");
        s.put("ctr.scoring.user-scores-redis-ttl-ms", "1000");
        s.put("ctr.training.model-redis-ttl-ms", "1000");
        return s;
    }

    /** The scorer on Flink's harness with an input per stream, as in the job. */
    private static final class ScorerHarness extends KeyedMultiInputStreamOperatorTestHarness<String, CtrScore> {

        ScorerHarness(OnlineConfig config) throws Exception {
            super(AuctionScorer.factory(config), Types.STRING);
            setKeySelector(AuctionScorer.AUCTIONS_INPUT - 1, (KeySelector<AdAuction, String>) AdAuction::getUserId);
            setKeySelector(AuctionScorer.FEEDBACK_INPUT - 1, (KeySelector<EncodedSnapshot, String>) EncodedSnapshot::getUserId);
            setKeySelector(AuctionScorer.VERSIONS_INPUT - 1, (KeySelector<RoutedVersion, String>) version -> version.route);
        }

        AuctionScorer scorer() {
            return (AuctionScorer) operator; // getOperator() casts to the older operator class
        }

        void processAuction(StreamRecord<AdAuction> auction) throws Exception {
            processElement(AuctionScorer.AUCTIONS_INPUT - 1, auction);
        }

        void processFeedback(StreamRecord<EncodedSnapshot> snapshot) throws Exception {
            processElement(AuctionScorer.FEEDBACK_INPUT - 1, snapshot);
        }

        void processVersion(StreamRecord<RoutedVersion> version) throws Exception {
            processElement(AuctionScorer.VERSIONS_INPUT - 1, version);
        }

        void processAllWatermarks(Watermark mark) throws Exception {
            for (int input = 0; input < 3; input++) {
                processWatermark(input, mark);
            }
        }
    }
}
