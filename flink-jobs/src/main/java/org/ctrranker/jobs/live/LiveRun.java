package org.ctrranker.jobs.live;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.ctrranker.jobs.CtrRankingJob;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.io.ConfiguredJobIO;

/**
 * The ctr-ranking job running unbounded in this JVM (Flink's local mini cluster), checkpointing
 * into a directory that keeps its latest checkpoint after a cancel or a crash, so a later run can
 * resume from it. What {@code bin/ctr run} (without --bounded), the demo and {@code bench e2e} run.
 */
public final class LiveRun implements AutoCloseable {

    /** Accumulators travel with TaskManager heartbeats; every second keeps the live counters fresh. */
    private static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(1);

    private final JobClient client;
    private final Path checkpointDir;
    private final Optional<Path> resumedFrom;

    private LiveRun(JobClient client, Path checkpointDir, Optional<Path> resumedFrom) {
        this.client = client;
        this.checkpointDir = checkpointDir;
        this.resumedFrom = resumedFrom;
    }

    /**
     * Submits the job. {@code resumeFrom}: a checkpoint ({@code .../chk-<n>}) to restore, e.g.
     * {@link Checkpoints#latestComplete}; its Kafka offsets, joins, features and model state carry on.
     */
    public static LiveRun start(CtrConfig config, int parallelism, Path checkpointDir, Optional<Path> resumeFrom)
            throws Exception {
        return start(config, parallelism, checkpointDir, resumeFrom, new Configuration());
    }

    /** As above, with Flink options of its own (e.g. the network buffer timeout a latency benchmark lowers). */
    public static LiveRun start(CtrConfig config, int parallelism, Path checkpointDir, Optional<Path> resumeFrom,
            Configuration flinkOptions) throws Exception {
        CtrConfig live = config.with("ctr.checkpoint.dir", checkpointDir.toUri().toString());
        CtrRankingJob.checkTransactionTimeout(live);
        Configuration flink = new Configuration(flinkOptions);
        flink.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL);
        flink.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        resumeFrom.ifPresent(chk -> flink.set(StateRecoveryOptions.SAVEPOINT_PATH, chk.toUri().toString()));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(parallelism);
        ConfiguredJobIO io = new ConfiguredJobIO(live, false);
        CtrRankingJob.define(env, live, io, io);
        JobClient client = env.executeAsync(CtrRankingJob.JOB_NAME);
        return new LiveRun(client, checkpointDir, resumeFrom);
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    public Optional<Path> resumedFrom() {
        return resumedFrom;
    }

    public String jobId() {
        return client.getJobID().toString();
    }

    /** True once the job has ended (failed for good, cancelled or finished). */
    public boolean ended() {
        return client.getJobExecutionResult().isDone();
    }

    /** The job's counters now (accumulators, as of the last heartbeat); empty while none reported yet. */
    public Map<String, Long> counters() {
        Map<String, Long> counters = new TreeMap<>();
        try {
            Map<String, Object> values = client.getAccumulators().get(10, TimeUnit.SECONDS);
            values.forEach((name, value) -> {
                if (value instanceof Number n) {
                    counters.put(name, n.longValue());
                }
            });
        } catch (Exception e) {
            // The job is starting or stopping; no counters this time.
        }
        return counters;
    }

    /** Cancels the job and waits until it has stopped; its latest checkpoint stays in the directory. */
    @Override
    public void close() {
        if (!ended()) {
            try {
                client.cancel().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                // already ending
            }
        }
        try {
            client.getJobExecutionResult().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // a cancelled job completes its result exceptionally; that is how it ends here
        }
    }
}
