package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.features.FeedbackEvents.click;
import static org.ctrranker.operators.features.FeedbackEvents.impression;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.redis.VersionedWrite;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Random event logs, delivered out of order within the watermark bound: every snapshot the operator
 * emits (samples for the scorers and Redis mirror) equals the batch alignment of the full log at the same time
 * ({@link BatchAlignmentReference}), a labelled sample's the same with only its ad's and category's recent exposures,
 * holds nothing later than its time nor its own impression, and a
 * second delivery order gives the very same output. Some cases set a cap on open exposures that the
 * logs exceed: its evictions must follow event time, not arrival (they did not, once).
 */
class UserFeedbackPropertyTest {

    private static final long W = 50;
    private static final long OUT_OF_ORDERNESS = 40;

    /** One user's generated log. */
    private record Log(List<TrainingSample> impressions, List<AdClick> clicks) {}

    private record Event(long timeMs, TrainingSample impression, AdClick click) {}

    @ParameterizedTest(name = "seed {0}, L={1}, R={2}, open exposures capped at {3}, N={4}, mirrored every {5} ms")
    @CsvSource({"1, 3, 2, 1000, 300, 1", "2, 3, 2, 1000, 4, 1", "3, 2, 1, 1000, 1, 25", "4, 30, 5, 1000, 300, 1",
            "5, 30, 5, 1000, 7, 40", "6, 4, 3, 1000, 300, 1", "7, 3, 2, 1000, 2, 7", "8, 30, 5, 1000, 300, 1000",
            "9, 3, 2, 2, 3, 1", "10, 30, 5, 3, 300, 25", "11, 4, 3, 4, 5, 1"})
    void streamingAlignmentEqualsTheBatchAlignmentOfTheFullLog(long seed, int maxClicks, int perSide, int maxOpen,
            int fatigueExposures, long mirrorIntervalMs) throws Exception {
        FeedbackConfig config = FeedbackConfig.builder().maxClicks(maxClicks).unclicksPerSide(perSide)
                .attributionWindowMs(W).maxOpenExposures(maxOpen).fatigueExposures(fatigueExposures)
                .mirrorIntervalMs(mirrorIntervalMs)
                .userIdleTimeoutMs(100 * FeedbackConfig.FATIGUE_HORIZON_MS).build();
        Random random = new Random(seed);
        Map<String, Log> logs = new TreeMap<>();
        for (int u = 0; u < 4; u++) {
            logs.put("user" + u, generate("user" + u, random));
        }

        Run first = run(config, logs, new Random(seed * 31 + 1), false);
        int impressions = logs.values().stream().mapToInt(l -> l.impressions().size()).sum();
        assertThat(first.samples).hasSize(impressions);

        Map<String, EncodedSnapshot> expectedForScoring = new TreeMap<>();
        int withRecentExposures = 0;
        for (int i = 0; i < first.samples.size(); i++) {
            TrainingSample sample = first.samples.get(i);
            long t = sample.getImpressionTimeMs();
            Log log = logs.get(sample.getUserId());
            UserFeedbackSnapshot expected = BatchAlignmentReference.snapshot(log.impressions(), log.clicks(), t,
                    sample.getImpressionId(), maxClicks, perSide, W, maxOpen, fatigueExposures);
            // the scorers': every impression of the time included
            expectedForScoring.put(sample.getUserId() + "@" + t, new EncodedSnapshot(sample.getUserId(),
                    UserFeedbackFunction.encode(BatchAlignmentReference.snapshot(log.impressions(), log.clicks(), t,
                            null, maxClicks, perSide, W, maxOpen, fatigueExposures))));
            assertThat(sample.getFeedback()).as("labelled sample %s", sample.getImpressionId())
                    .isEqualTo(UserFeedbackFunction.forSample(expected, sample.getAdId(), sample.getCategoryId()));
            withRecentExposures += sample.getFeedback().getRecentExposures().isEmpty() ? 0 : 1;
            assertThat(UserFeedbackFunctionTest.allExposureTimes(sample.getFeedback())).allMatch(time -> time <= t);
            assertThat(SnapshotText.of(sample.getFeedback()).split("[\\[\\] |]")).doesNotContain(sample.getAdId());
        }
        int checkedWrites = 0;
        for (Map.Entry<String, List<VersionedWrite>> perKey : first.mirror.entrySet()) {
            String user = perKey.getKey().replaceAll(".*\\{(.*)}.*", "$1");
            Log log = logs.get(user);
            for (VersionedWrite w : perKey.getValue()) {
                assertThat(w.version % mirrorIntervalMs).as("written at an interval's end").isZero();
                UserFeedbackSnapshot mirrored = UserFeedbackFunction.decode(w.field(UserFeedbackFunction.FIELD_SNAPSHOT));
                assertThat(mirrored).isEqualTo(BatchAlignmentReference.snapshot(log.impressions(), log.clicks(),
                        w.version, null, maxClicks, perSide, W, maxOpen, fatigueExposures));
                checkedWrites++;
            }
        }
        assertThat(first.forScoring).isEqualTo(expectedForScoring);
        assertThat(checkedWrites).isPositive();
        assertThat(withRecentExposures).as("samples whose category the user saw before").isPositive();
        if (maxOpen < 1000) {
            assertThat(logs.values()).as("the cap binds").anyMatch(log -> !BatchAlignmentReference
                    .evictedByTheCap(log.impressions(), Long.MAX_VALUE, W, maxOpen).isEmpty());
        }

        // a replay in another order, on the RocksDB backend for half of the cases
        Run replay = run(config, logs, new Random(seed * 77 + 5), seed % 2 == 0);
        assertThat(replay.samples).isEqualTo(first.samples);
        assertThat(replay.forScoring).isEqualTo(first.forScoring);
        assertThat(replay.mirror).isEqualTo(first.mirror);
    }

    private static Log generate(String user, Random random) {
        List<TrainingSample> impressions = new ArrayList<>();
        List<AdClick> clicks = new ArrayList<>();
        int n = 20 + random.nextInt(60);
        long t = 1_000;
        for (int i = 0; i < n; i++) {
            t += random.nextInt(4) == 0 ? 0 : random.nextInt(30); // equal times happen
            if (random.nextInt(25) == 0) {
                t += FeedbackConfig.FATIGUE_HORIZON_MS - 60 + random.nextInt(120); // the fatigue features' hour passes
            }
            String id = user + "-imp" + i;
            TrainingSample impression = impression(user, id, user + "-ad" + i, t);
            impression.setCategoryId(user + "-cat" + random.nextInt(4));
            impressions.add(impression);
            if (random.nextDouble() < 0.3) {
                long delay = -10 + random.nextInt(90); // some stamped before the impression, some after W: no click
                clicks.add(click(user, id, t + delay));
                if (random.nextDouble() < 0.2) {
                    clicks.add(click(user, id, t + delay + random.nextInt(20))); // duplicate
                }
            }
            if (random.nextDouble() < 0.03) {
                clicks.add(click(user, user + "-no-such-impression" + i, t)); // orphan
            }
        }
        return new Log(impressions, clicks);
    }

    private static final class Run {
        final List<TrainingSample> samples;
        /** By user and record time: one each. */
        final Map<String, EncodedSnapshot> forScoring;
        final Map<String, List<VersionedWrite>> mirror;

        Run(List<TrainingSample> samples, Map<String, EncodedSnapshot> forScoring,
                Map<String, List<VersionedWrite>> mirror) {
            this.samples = samples;
            this.forScoring = forScoring;
            this.mirror = mirror;
        }
    }

    /** Delivers all logs in one random order that stays within the watermark bound, then drains. */
    private static Run run(FeedbackConfig config, Map<String, Log> logs, Random arrival, boolean rocksDb) throws Exception {
        List<Event> events = new ArrayList<>();
        for (Log log : logs.values()) {
            log.impressions().forEach(s -> events.add(new Event(s.getImpressionTimeMs(), s, null)));
            log.clicks().forEach(c -> events.add(new Event(c.getClickTimeMs(), null, c)));
        }
        // arrival = event time + a delay of at most OUT_OF_ORDERNESS
        Map<Event, Long> arrivalKey = new java.util.IdentityHashMap<>();
        events.forEach(e -> arrivalKey.put(e, e.timeMs() + arrival.nextInt((int) OUT_OF_ORDERNESS + 1)));
        events.sort(Comparator.comparingLong(arrivalKey::get));

        try (var h = rocksDb ? UserFeedbackFunctionTest.rocksDbHarness(config) : UserFeedbackFunctionTest.harness(config)) {
            assertThat(h.getOperator().getKeyedStateBackend().getClass().getName().contains("RocksDB")).as(h.getOperator().getKeyedStateBackend().getClass().getName()).isEqualTo(rocksDb);
            long watermark = Long.MIN_VALUE;
            for (Event e : events) {
                if (e.impression() != null) {
                    // a fresh record per run, as a deserialized input would be (the operator completes it in place)
                    h.processElement1(TrainingSample.newBuilder(e.impression()).build(), e.timeMs());
                } else {
                    h.processElement2(e.click(), e.timeMs());
                }
                long next = arrivalKey.get(e) - OUT_OF_ORDERNESS - 1; // no later event can be older
                if (next > watermark) {
                    watermark = next;
                    h.processBothWatermarks(new Watermark(watermark));
                }
            }
            h.processBothWatermarks(new Watermark(Long.MAX_VALUE));
            List<TrainingSample> samples = new ArrayList<>(h.extractOutputValues());
            samples.sort(Comparator.comparing(TrainingSample::getImpressionId));
            Map<String, EncodedSnapshot> forScoring = h.getSideOutput(UserFeedbackFunction.FOR_SCORING).stream()
                    .collect(Collectors.toMap(r -> r.getValue().userId + "@" + r.getTimestamp(), r -> r.getValue(),
                            (a, b) -> {
                                throw new AssertionError("two snapshots of one user and time: " + a + ", " + b);
                            }, TreeMap::new));
            Map<String, List<VersionedWrite>> mirror = h.getSideOutput(UserFeedbackFunction.REDIS_MIRROR).stream()
                    .map(r -> r.getValue())
                    .collect(Collectors.groupingBy(w -> w.key, TreeMap::new, Collectors.toList()));
            return new Run(samples, forScoring, mirror);
        }
    }
}
