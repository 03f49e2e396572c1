package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.ctrranker.jobs.CtrRankingJob;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.jobs.testing.CommittedSamples;
import org.ctrranker.jobs.testing.RedisContents;
import org.ctrranker.localenv.FlinkClusterOptions;
import org.ctrranker.localenv.FlinkProcessCluster;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.localenv.StackEndpoints;
import org.ctrranker.localenv.TopicRecordCounter;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * The job jar on a real Flink cluster of separate JVMs, laid out as the image (k8s/image/Dockerfile) and the
 * FlinkDeployment have it: a JobManager and two TaskManagers from the Maven jars, DJL in the TaskManagers' lib/
 * loaded parent-first, the FlinkDeployment's state backend, incremental checkpoints, restart strategy and JVM
 * options; the shaded job jar submitted with Flink's CLI front end against the real Kafka and Redis.
 *
 * <p>One TaskManager is SIGKILLed while the job reads. The job must come back from its checkpoint on the other
 * one and end where a run without failures ends: every generated impression labelled once, as the generator
 * decided, in read_committed Kafka, and Redis holding byte for byte what a failure-free run of the same job
 * (Flink's mini cluster in this JVM, over the same input at the same time) wrote. Then the job is cancelled and
 * submitted again from its retained checkpoint on the surviving TaskManager, which must run it in a new job
 * classloader without a native library loaded twice, and without writing any sample again.
 *
 * <p>Input: a generated stream with faults (the truth), then a short "clock" stream a quarter of an hour of
 * event time later on every partition. The clock's watermark closes the attribution window of every impression
 * of the truth, while the clock's own impressions (a shorter span than the window) stay unlabelled, so the
 * expected samples are exactly the truth's impressions.
 */
@ExtendWith(LocalStackExtension.class)
class ProcessClusterFailoverIT {

    private static final long WINDOW_MS = 30_000;
    private static final int PARALLELISM = 2;
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(240);
    /** Settings of the FlinkDeployment (k8s/base) that the local cluster takes over unchanged. */
    private static final List<String> DEPLOYMENT_SETTINGS = List.of("state.backend.type",
            "execution.checkpointing.incremental", "restart-strategy.type", "pipeline.max-parallelism",
            "classloader.parent-first-patterns.additional", "env.java.opts.all",
            "execution.checkpointing.externalized-checkpoint-retention", "execution.checkpointing.num-retained");
    /** Names of the two jobs: their Redis key prefixes, consumer groups and output topics. */
    private static final String FAILOVER = "cluster-it-failover";
    private static final String REFERENCE = "cluster-it-reference";
    private static final Map<EventTopic, String> INPUTS = Map.of(EventTopic.AD_AUCTIONS, "cluster-it-auctions",
            EventTopic.AD_IMPRESSIONS, "cluster-it-impressions", EventTopic.AD_CLICKS, "cluster-it-clicks");

    private final long start = System.nanoTime();

    @Test
    void aKilledTaskManagerChangesNothingInKafkaOrRedisAndTheJobResubmitsOnTheSameTaskManagers(
            LocalStack stack, @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path workDir) throws Exception {
        FlinkProcessCluster cluster = FlinkProcessCluster.start(clusterOptions(workDir));
        JobClient reference = null;
        try (cluster) {
            StackEndpoints endpoints = stack.endpoints();
            List<String> topics = new ArrayList<>(INPUTS.values());
            for (String job : List.of(FAILOVER, REFERENCE)) {
                topics.addAll(List.of(job + "-samples", job + "-dead-letters"));
            }
            stack.createTopics(topics, 4);
            List<GeneratedRecord> stream = new ArrayList<>();
            GroundTruth truth = new SyntheticEventGenerator(GeneratorConfig.builder().seed(21).auctions(2_000)
                    .auctionsPerSecond(10).users(300).attributionWindowMs(WINDOW_MS).lateClickRate(0.05)
                    .duplicateClickRate(0.05).orphanClickRate(0.02).outOfOrderRate(0.1).malformedRate(0.005)
                    .build()).run(stream::add);
            long lastEventMs = stream.stream().mapToLong(GeneratedRecord::eventTimeMs).max().orElseThrow();
            List<GeneratedRecord> clock = new ArrayList<>();
            new SyntheticEventGenerator(GeneratorConfig.builder().seed(22).auctions(500).auctionsPerSecond(200)
                    .users(300).attributionWindowMs(WINDOW_MS).noFaults().startTimeMs(lastEventMs + 15 * 60_000L)
                    .build()).run(clock::add);
            int half = stream.size() / 2;
            log("input generated: " + stream.size() + " + " + clock.size() + " records");
            String failover;
            long restartsBeforeKill;

            try (KafkaEventWriter writer = new KafkaEventWriter(endpoints.kafkaBootstrap(), INPUTS)) {
                write(writer, stream.subList(0, half));
                log("first half written");
                cluster.awaitReady(2, STEP_TIMEOUT);
                log("cluster ready");
                failover = cluster.submit(jobJar(), CtrRankingJob.class.getName(), PARALLELISM, jobArgs(endpoints, FAILOVER));
                log("job submitted with the CLI");
                reference = startReference(endpoints, workDir.resolve("reference-checkpoints"));
                cluster.awaitCondition("committed samples of the first half", STEP_TIMEOUT,
                        () -> committed(endpoints, FAILOVER) > 0);
                log("first samples committed");
                assertThat(cluster.usedSlots()).as("slots in use per TaskManager: the job spreads over both")
                        .containsEntry("tm-1", 1).containsEntry("tm-2", 1);

                write(writer, stream.subList(half, stream.size()));
                long committedAtKill = committed(endpoints, FAILOVER);
                restartsBeforeKill = cluster.restarts(failover);
                cluster.killTaskManager("tm-2");
                log("tm-2 killed with " + committedAtKill + " of " + truth.impressions() + " samples committed");
                assertThat(committedAtKill).as("killed mid-stream").isLessThan(truth.impressions());
                write(writer, clock);
            }

            cluster.awaitCondition("every sample committed by both jobs", STEP_TIMEOUT, () -> {
                restartIfDead(cluster, "tm-1");
                return committed(endpoints, FAILOVER) >= truth.impressions()
                        && committed(endpoints, REFERENCE) >= truth.impressions();
            });
            log("both jobs committed every sample");
            assertThat(cluster.restarts(failover)).as("failovers of the job").isGreaterThan(restartsBeforeKill);
            assertThat(cluster.usedSlots()).as("the job runs on the surviving TaskManager").containsOnlyKeys("tm-1");

            Map<String, byte[]> samples = CommittedSamples.read(endpoints.kafkaBootstrap(), FAILOVER + "-samples");
            assertThat(samples).hasSize((int) truth.impressions());
            CommittedSamples.assertLabelledAsGenerated(truth, samples);
            CommittedSamples.assertSame(CommittedSamples.read(endpoints.kafkaBootstrap(), REFERENCE + "-samples"), samples);

            log("samples checked");
            awaitRedisConverged(endpoints);
            assertThat(redisState(endpoints, FAILOVER)).isNotEmpty().isEqualTo(redisState(endpoints, REFERENCE));
            log("Kafka and Redis equal the failure-free run");

            // Cancel and resubmit from the retained checkpoint, as the operator does on an upgrade: the same job
            // jar in a new job classloader on the TaskManager that ran both attempts of the first job.
            cluster.cancel(failover, STEP_TIMEOUT);
            String resubmitted = cluster.submitFrom(cluster.latestCheckpointPath(failover), jobJar(),
                    CtrRankingJob.class.getName(), PARALLELISM, jobArgs(endpoints, FAILOVER));
            cluster.awaitCondition("the resubmitted job running with a completed checkpoint", STEP_TIMEOUT,
                    () -> cluster.allTasksRunning(resubmitted)
                            && cluster.completedCheckpoints(resubmitted) > 0);
            log("resubmitted job running; " + cpuReport(cluster));
            assertThat(cluster.restarts(resubmitted)).as("failures of the resubmitted job").isZero();
            assertThat(CommittedSamples.read(endpoints.kafkaBootstrap(), FAILOVER + "-samples").keySet())
                    .as("samples after the resubmission").isEqualTo(samples.keySet());
            assertThat(redisState(endpoints, FAILOVER)).isEqualTo(redisState(endpoints, REFERENCE));
            assertTaskManagersLoadedDjlFromLibOnly(cluster);
        } finally {
            if (reference != null) {
                reference.cancel();
            }
            log("done");
        }
    }

    /** The FlinkDeployment's own settings where they apply to one machine; addresses, memory and paths are local. */
    private static FlinkClusterOptions clusterOptions(Path workDir) {
        FlinkClusterOptions.Builder options = FlinkClusterOptions.builder().workDir(workDir.resolve("flink"))
                .taskManagers(2).slotsPerTaskManager(2)
                .set("execution.checkpointing.dir", workDir.resolve("flink/checkpoints").toUri().toString())
                // One slot of each TaskManager, so that killing either one hits the job.
                .set("taskmanager.load-balance.mode", "slots");
        JsonNode deployment = DeployLayout.find(DeployLayout.render("local"), "FlinkDeployment", "ctr-ranker")
                .at("/spec/flinkConfiguration");
        for (String key : DEPLOYMENT_SETTINGS) {
            assertThat(deployment.has(key)).as("the FlinkDeployment sets %s", key).isTrue();
            options.set(key, deployment.get(key).asText());
        }
        return options.build();
    }

    private static Map<String, String> jobSettings(StackEndpoints endpoints, String job) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("ctr.kafka.bootstrap-servers", endpoints.kafkaBootstrap());
        settings.put("ctr.kafka.group-id", job);
        settings.put("ctr.kafka.transactional-id-prefix", job);
        settings.put("ctr.redis.url", endpoints.redisUrl());
        settings.put("ctr.redis.key-prefix", job);
        settings.put("ctr.topic.auctions", INPUTS.get(EventTopic.AD_AUCTIONS));
        settings.put("ctr.topic.impressions", INPUTS.get(EventTopic.AD_IMPRESSIONS));
        settings.put("ctr.topic.clicks", INPUTS.get(EventTopic.AD_CLICKS));
        settings.put("ctr.topic.training-samples", job + "-samples");
        settings.put("ctr.topic.dead-letters", job + "-dead-letters");
        settings.put("ctr.attribution.window-ms", Long.toString(WINDOW_MS));
        settings.put("ctr.checkpoint.interval-ms", "1000");
        // Without idleness the final watermark is the smallest partition's, whatever the timing: both runs end
        // with the same timers fired.
        settings.put("ctr.watermark.idleness-ms", "0");
        // Both jobs read the input faster than their trainers train: auctions wait for the versions' watermark,
        // however long, so that each is scored as in the other run.
        settings.put("ctr.scoring.max-wait-ms", "0");
        return settings;
    }

    private static List<String> jobArgs(StackEndpoints endpoints, String job) {
        List<String> args = new ArrayList<>();
        jobSettings(endpoints, job).forEach((key, value) -> args.addAll(List.of("--set", key + "=" + value)));
        return args;
    }

    /** The same job, without failures, in Flink's mini cluster in this JVM. */
    private static JobClient startReference(StackEndpoints endpoints, Path checkpoints) throws Exception {
        Map<String, String> settings = jobSettings(endpoints, REFERENCE);
        // The trainer's model outgrows the JobManager's in-memory checkpoint storage (5 MB).
        settings.put("ctr.checkpoint.dir", checkpoints.toUri().toString());
        CtrConfig config = CtrConfig.load(null, settings);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(PARALLELISM);
        ConfiguredJobIO io = new ConfiguredJobIO(config, false);
        CtrRankingJob.define(env, config, io, io);
        return env.executeAsync(REFERENCE);
    }

    private static long committed(StackEndpoints endpoints, String job) {
        return TopicRecordCounter.countCommitted(endpoints.kafkaBootstrap(), List.of(job + "-samples"))
                .get(job + "-samples");
    }

    private static void write(KafkaEventWriter writer, List<GeneratedRecord> records) {
        records.forEach(writer);
        writer.flush();
    }

    /** Waits up to 30 s for the Redis sinks' last flushes; the assertion after it shows any difference. */
    private static void awaitRedisConverged(StackEndpoints endpoints) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!redisState(endpoints, FAILOVER).equals(redisState(endpoints, REFERENCE)) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
    }

    /** The job's Redis contents under {@code prefix}, as far as a rerun reproduces them. */
    private static Map<String, Map<String, String>> redisState(StackEndpoints endpoints, String prefix) {
        try (Jedis jedis = new Jedis(endpoints.redisHost(), endpoints.redisPort())) {
            return RedisContents.replayInvariant(RedisContents.hashes(jedis, prefix));
        }
    }

    /**
     * DJL is on every TaskManager's system classpath (lib/), as in the image; the scorer loaded the PyTorch engine
     * on the surviving TaskManager, which ran the job before and after the failover and the resubmission in new
     * job classloaders, and no TaskManager ever loaded a native library twice.
     */
    private static void assertTaskManagersLoadedDjlFromLibOnly(FlinkProcessCluster cluster) throws IOException {
        for (Path log : cluster.taskManagerLogs()) {
            String text = Files.readString(log);
            assertThat(text).as(log.toString()).doesNotContain("UnsatisfiedLinkError")
                    .doesNotContain("already loaded in another classloader");
            if (log.toString().endsWith(".log")) {
                assertThat(text).as("classpath in " + log).contains("pytorch-engine-").contains("pytorch-native-cpu-");
            }
            if (log.getFileName().toString().equals("tm-1.log")) {
                assertThat(text).as("the PyTorch engine started in " + log).contains("Number of intra-op threads is");
            }
        }
    }

    private static Path jobJar() {
        Path jar = Path.of(System.getProperty("ctr.job.jar", "target/ctr-flink-jobs-job.jar"));
        assertThat(jar).as("the shaded job jar (mvn package builds it before the integration tests)").exists();
        return jar;
    }

    /**
     * CPU seconds so far, the figure to compare on a loaded machine, where wall time says little: the cluster's live
     * JVMs, this JVM (generator, reference job, checks) and its finished child processes (CLI front ends,
     * BashJavaUtils, the killed TaskManager), read from /proc/self/stat; Kafka and Redis not included.
     */
    private static String cpuReport(FlinkProcessCluster cluster) throws IOException {
        if (!Files.isReadable(Path.of("/proc/self/stat"))) {
            return "CPU seconds of the cluster JVMs: " + cluster.cpuTime().toSeconds();
        }
        String[] stat = Files.readString(Path.of("/proc/self/stat")).replaceFirst("^.*\\) ", "").split(" ");
        double ticksPerSecond = 100; // USER_HZ on Linux
        double self = (Long.parseLong(stat[11]) + Long.parseLong(stat[12])) / ticksPerSecond;
        double children = (Long.parseLong(stat[13]) + Long.parseLong(stat[14])) / ticksPerSecond;
        return String.format("CPU seconds: cluster JVMs %d, this JVM %.0f, finished child processes %.0f",
                cluster.cpuTime().toSeconds(), self, children);
    }

    /**
     * Flink 2.2 can take the surviving TaskManager down with the killed one: a task cleaning up after the lost
     * connection recycles a buffer into the remote input channel, which rethrows the connection's error, and an
     * exception in a task's exception handler is fatal to its TaskManager (seen once in CI). Kubernetes restarts
     * that pod; so does this test, under the same name, and everything after must hold as before.
     */
    private void restartIfDead(FlinkProcessCluster cluster, String taskManager) {
        if (!cluster.isAlive(taskManager)) {
            log(taskManager + " died as well; restarting it as Kubernetes restarts a TaskManager's pod");
            cluster.restartTaskManager(taskManager);
        }
    }

    private void log(String what) {
        System.out.printf("[%5.1f s] %s%n", (System.nanoTime() - start) / 1e9, what);
    }
}
