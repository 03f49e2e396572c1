package org.ctrranker.jobs;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.schemas.EventTopic;

/**
 * Runs the job over what the input topics hold now, in this JVM (Flink's local mini cluster), and
 * returns its counts: what {@code bin/ctr run --bounded} prints.
 */
public final class BoundedRun {

    /** Short, so the final checkpoint that commits the Kafka transactions comes soon after the input ends. */
    private static final long MAX_CHECKPOINT_INTERVAL_MS = 1_000;
    private static final long NO_RESTART_ALIGNED_TIMEOUT_MS = 5_000;
    /** Flink's default is 180 s; a stuck task's TaskManager is replaced sooner. */
    private static final Duration CANCELLATION_TIMEOUT = Duration.ofSeconds(30);

    private BoundedRun() {}

    public static Map<String, Object> run(CtrConfig config, int parallelism) throws Exception {
        return run(config, parallelism, 0);
    }

    /**
     * As {@link #run(CtrConfig, int)}, but a failure restarts the job from its last checkpoint, up to
     * {@code restarts} times (chaos tests: ctr.fault-injection.*); {@code scorer_attempt} in the counts
     * is then above 0.
     */
    public static Map<String, Object> run(CtrConfig config, int parallelism, int restarts) throws Exception {
        return execute(config, parallelism, restarts).counts();
    }

    /** A bounded run's counts (what {@link #run} returns) and Flink's result, whose accumulators tools may read. */
    public record Outcome(Map<String, Object> counts, JobExecutionResult result) {}

    public static Outcome execute(CtrConfig config, int parallelism) throws Exception {
        return execute(config, parallelism, 0);
    }

    private static Outcome execute(CtrConfig config, int parallelism, int restarts) throws Exception {
        java.nio.file.Path checkpoints = java.nio.file.Files.createTempDirectory("ctr-bounded-checkpoints");
        try {
            return run(config, parallelism, restarts, checkpoints);
        } finally {
            org.apache.flink.util.FileUtils.deleteDirectoryQuietly(checkpoints.toFile());
        }
    }

    private static Outcome run(CtrConfig config, int parallelism, int restarts, java.nio.file.Path checkpoints)
            throws Exception {
        CtrConfig bounded = config
                // Kafka connector 5.0.0 fails when alignment pauses a split that has just finished
                // (FLINK-39728); bounded splits always finish, and a bounded run needs no alignment.
                .with("ctr.watermark.max-drift-ms", "0")
                // Every split of a bounded input has data until it finishes; an idle mark, set when a
                // busy machine stalls a reader, would only let the others' watermark overtake it.
                .with("ctr.watermark.idleness-ms", "0")
                // Nobody reads a bounded run's rankings live: every auction waits for its inputs, so a rerun
                // or a failover serves the same scores however far the trainer falls behind.
                .with("ctr.scoring.max-wait-ms", "0")
                .with("ctr.checkpoint.interval-ms",
                        Long.toString(Math.min(MAX_CHECKPOINT_INTERVAL_MS, config.longValue("ctr.checkpoint.interval-ms"))))
                // A fresh prefix per run: a later run never fences or aborts an earlier one's transactions.
                .with("ctr.kafka.transactional-id-prefix",
                        config.string("ctr.kafka.transactional-id-prefix") + "-bounded-" + System.currentTimeMillis())
                // A bounded input is all read at once and queues in the network buffers; an aligned barrier
                // waits behind that queue at every hop, so the first checkpoint of a small input completed only
                // near its end and a failure restored nothing. Unaligned barriers overtake the queue at once.
                // Without restarts, barriers align first, as before the live default became 0: with unaligned
                // barriers from the start, 2 of 3 MindParityIT runs hung at the end of their input (every source
                // finished, a feature task never saw its inputs end).
                .with("ctr.checkpoint.aligned-timeout-ms", restarts > 0 ? "0" : Long.toString(NO_RESTART_ALIGNED_TIMEOUT_MS))
                // Throughput, not latency: Flink's own buffer timeout.
                .with("ctr.pipeline.buffer-timeout-ms", "-1")
                .with("ctr.checkpoint.dir", config.string("ctr.checkpoint.dir").isEmpty()
                        ? checkpoints.toUri().toString() : config.string("ctr.checkpoint.dir"));
        CtrRankingJob.checkTransactionTimeout(bounded);
        StreamExecutionEnvironment env = environment(parallelism, restarts, CANCELLATION_TIMEOUT);
        ConfiguredJobIO io = new ConfiguredJobIO(bounded, true);
        CtrRankingJob.define(env, bounded, io, io);
        long start = System.nanoTime();
        JobExecutionResult result = env.execute(CtrRankingJob.JOB_NAME + "-bounded");
        return new Outcome(counts(result, (System.nanoTime() - start) / 1e9), result);
    }

    /**
     * The local mini cluster a bounded run executes in. A bounded run reports its failure instead of
     * restarting, unless restarts are asked for. Then a failure restarts the job from its last checkpoint
     * after 200 ms, and the cluster has a spare TaskManager with every slot the job needs: a task that does
     * not react to cancelling (Flink 2.2.1's {@code UnionInputGate} spins once a stream it reads has ended and
     * its gate is queued again; no task of the job reads through one now, {@code MergedStreams}) makes the
     * TaskManager's watchdog kill its TaskManager after {@code cancellationTimeout}, and Kubernetes would start a
     * new one where the mini cluster has none.
     */
    static StreamExecutionEnvironment environment(int parallelism, int restarts, Duration cancellationTimeout) {
        Configuration cluster = new Configuration();
        if (restarts > 0) {
            cluster.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            cluster.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restarts);
            cluster.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
            cluster.set(TaskManagerOptions.MINI_CLUSTER_NUM_TASK_MANAGERS, 2);
            cluster.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
            cluster.set(TaskManagerOptions.TASK_CANCELLATION_TIMEOUT, cancellationTimeout);
        } else {
            cluster.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        env.setParallelism(parallelism);
        return env;
    }

    static Map<String, Object> counts(JobExecutionResult result, double seconds) {
        Map<String, Object> counts = new LinkedHashMap<>();
        for (EventTopic topic : new EventTopic[] {EventTopic.AD_AUCTIONS, EventTopic.AD_IMPRESSIONS, EventTopic.AD_CLICKS}) {
            counts.put(topic.defaultName(), accumulator(result, "events." + topic.defaultName()));
        }
        counts.put("joined", accumulator(result, "joined"));
        counts.put("labelled", accumulator(result, "labelled"));
        counts.put("positives", accumulator(result, "positives"));
        counts.put("samples_without_feedback", accumulator(result, "samplesWithoutFeedback"));
        counts.put("late_clicks", accumulator(result, "lateClicks"));
        counts.put("orphan_clicks", accumulator(result, "orphanClicks"));
        counts.put("duplicate_clicks", accumulator(result, "duplicateClicks"));
        counts.put("impressions_without_auction", accumulator(result, "impressionsWithoutAuction"));
        counts.put("auctions_without_impression", accumulator(result, "auctionsWithoutImpression"));
        Map<String, Long> malformed = new LinkedHashMap<>();
        for (EventTopic topic : new EventTopic[] {EventTopic.AD_AUCTIONS, EventTopic.AD_IMPRESSIONS, EventTopic.AD_CLICKS}) {
            malformed.put(topic.defaultName(), accumulator(result, "deadLetters." + topic.defaultName()));
        }
        counts.put("malformed", malformed);
        counts.put("dead_letters", accumulator(result, "deadLetters"));
        counts.put("scored_auctions", accumulator(result, "scoredAuctions"));
        counts.put("samples_trained", accumulator(result, "samplesTrained"));
        counts.put("samples_held_out", accumulator(result, "samplesHeldOut"));
        counts.put("samples_backfill", accumulator(result, "samplesBackfill"));
        counts.put("model_versions", accumulator(result, "modelVersions"));
        counts.put("model_versions_rejected", accumulator(result, "modelVersionsRejected"));
        counts.put("gate_live_predictions", accumulator(result, "gateLivePredictions"));
        counts.put("scorer_model_swaps", accumulator(result, "scorerModelSwaps"));
        counts.put("scorer_preloaded_swaps", accumulator(result, "scorerPreloadedSwaps"));
        counts.put("scorer_waited_auctions", accumulator(result, "scorerWaitedAuctions"));
        counts.put("scorer_timed_out_auctions", accumulator(result, "scorerTimedOutAuctions"));
        counts.put("scorer_late_records", accumulator(result, "scorerLateRecords"));
        counts.put("scorer_backfill_auctions", accumulator(result, "scorerBackfillAuctions"));
        counts.put("scorer_attempt", accumulator(result, "scorerAttempt"));
        counts.put("scorer_restored_versions", accumulator(result, "scorerRestoredVersions"));
        long cpuMicros = accumulator(result, "scoringCpuMicros");
        counts.put("scoring_candidates_per_cpu_s",
                cpuMicros == 0 ? 0 : Math.round(accumulator(result, "scoredCandidates") * 1e6 / cpuMicros));
        // the feature stages' counters (UserFeedbackFunction, ItemStatisticsFunction, AuctionStatisticsFunction), by group
        Map<String, Map<String, Long>> features = new java.util.TreeMap<>();
        result.getAllAccumulatorResults().forEach((name, value) -> {
            int dot = name.indexOf('.');
            String group = dot < 0 ? "" : name.substring(0, dot);
            if (group.equals("userFeedback") || group.equals("itemStatistics") || group.equals("auctionStatistics")) {
                features.computeIfAbsent(group, g -> new java.util.TreeMap<>())
                        .put(name.substring(dot + 1), ((Number) value).longValue());
            }
        });
        counts.put("features", features);
        counts.put("seconds", Math.round(seconds * 10) / 10.0);
        return counts;
    }

    private static long accumulator(JobExecutionResult result, String name) {
        Object value = result.getAllAccumulatorResults().get(name);
        return value == null ? 0L : ((Number) value).longValue();
    }
}
