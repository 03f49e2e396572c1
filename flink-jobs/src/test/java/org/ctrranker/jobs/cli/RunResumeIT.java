package org.ctrranker.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.testing.CommittedSamples;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import redis.clients.jedis.Jedis;

/**
 * {@code bin/ctr run} unbounded, stopped, then {@code run --resume}: the second run restores the
 * latest retained checkpoint, so the trainer continues its version sequence and sample count, and
 * the training-samples topic (read_committed) holds each sample once across the restart. On the heap
 * state backend (the default) and on RocksDB with incremental checkpoints ({@code --flink}), as Kubernetes runs it.
 */
@ExtendWith(LocalStackExtension.class)
class RunResumeIT {

    /** Topics, consumer group, transactions and Redis keys of this run (one per backend, on one stack). */
    private String prefix;
    private static final long START_MS = 1_767_571_200_000L;

    @TempDir
    Path checkpoints;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aResumedRunContinuesTheModelVersionsAndWritesNoSampleTwice(String backend, LocalStack stack) throws Exception {
        prefix = "resume-it-" + backend;
        stack.createTopics(List.of(prefix + "-auctions", prefix + "-impressions", prefix + "-clicks",
                prefix + "-samples", prefix + "-scores", prefix + "-dead-letters"), 4);
        String[] flink = backend.equals("rocksdb")
                ? new String[] {"--flink", "state.backend.type=rocksdb", "--flink", "execution.checkpointing.incremental=true"}
                : new String[0];

        GroundTruth first = write(stack, 31, START_MS);
        // Generous: a loaded machine has been seen taking 15 s over one checkpoint of this job.
        Result run1 = run(stack, flink, "--seconds", "50");
        assertThat(run1.exitCode).as(run1.stderr).isZero();
        Path checkpoint1 = Path.of(run1.stdout.lines().filter(l -> l.startsWith("latest checkpoint: ")).findFirst()
                .orElseThrow().substring("latest checkpoint: ".length()));
        // Only incremental RocksDB checkpoints keep files in the job's shared folder, for later checkpoints to refer to.
        assertThat(sharedFiles(checkpoint1.getParent().resolve("shared"))).as("files in shared/")
                .matches(n -> backend.equals("rocksdb") ? n > 0 : n == 0);
        Map<String, String> model1 = current(stack);
        assertThat(model1).as("the first run published a version").containsKey("live_version");
        long version1 = Long.parseLong(model1.get("live_version"));
        assertThat(version1).isPositive();

        write(stack, 32, START_MS + 60_000);
        Result run2 = run(stack, flink, "--seconds", "60", "--resume");
        assertThat(run2.exitCode).as(run2.stderr).isZero();
        assertThat(run2.stdout).contains("; resumed from " + checkpoints.toAbsolutePath());
        String run2Job = run2.stdout.lines().filter(l -> l.startsWith("job ")).findFirst().orElseThrow().split(" ")[1];
        assertThat(run2.stdout).as("the resumed run completed checkpoints of its own")
                .contains("latest checkpoint: " + checkpoints.toAbsolutePath().resolve(run2Job));

        try (Jedis redis = RedisEndpoint.parse(stack.endpoints().redisUrl()).connect()) {
            Map<String, String> before = redis.hgetAll(RedisKeys.modelVersion(prefix, "ctr", version1));
            Map<String, String> next = redis.hgetAll(RedisKeys.modelVersion(prefix, "ctr", version1 + 1));
            assertThat(next).as("version %d, published by the resumed run", version1 + 1).isNotEmpty();
            assertThat(Long.parseLong(next.get("samples_trained")))
                    .as("the restored trainer keeps counting instead of starting over")
                    .isGreaterThan(Long.parseLong(before.get("samples_trained")));
        }
        assertThat(Long.parseLong(current(stack).get("live_version"))).isGreaterThan(version1);

        // Fails on any sample id committed twice; the second batch moved event time past every first-batch window.
        Map<String, byte[]> samples = CommittedSamples.read(stack.endpoints().kafkaBootstrap(), prefix + "-samples");
        assertThat((long) samples.size()).isGreaterThanOrEqualTo(first.impressions());
    }

    private static long sharedFiles(Path shared) throws IOException {
        if (!Files.isDirectory(shared)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(shared)) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    private GroundTruth write(LocalStack stack, long seed, long startMs) {
        Map<EventTopic, String> inputs = Map.of(EventTopic.AD_AUCTIONS, prefix + "-auctions",
                EventTopic.AD_IMPRESSIONS, prefix + "-impressions", EventTopic.AD_CLICKS, prefix + "-clicks");
        GeneratorConfig config = GeneratorConfig.builder().seed(seed).auctions(1_500).auctionsPerSecond(50)
                .users(300).startTimeMs(startMs).attributionWindowMs(5_000).noFaults().build();
        try (KafkaEventWriter writer = new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), inputs)) {
            return new SyntheticEventGenerator(config).run(writer);
        }
    }

    private Map<String, String> current(LocalStack stack) {
        try (Jedis redis = RedisEndpoint.parse(stack.endpoints().redisUrl()).connect()) {
            return redis.hgetAll(RedisKeys.modelCurrent(prefix, "ctr"));
        }
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private Result run(LocalStack stack, String[] flink, String... extra) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", stack.endpoints().kafkaBootstrap(),
                "--redis", stack.endpoints().redisUrl(), "--checkpoint-dir", checkpoints.toString(),
                "--checkpoint-interval", "1s", "--report-every", "5s",
                "--set", "ctr.topic.auctions=" + prefix + "-auctions",
                "--set", "ctr.topic.impressions=" + prefix + "-impressions",
                "--set", "ctr.topic.clicks=" + prefix + "-clicks",
                "--set", "ctr.topic.training-samples=" + prefix + "-samples",
                "--set", "ctr.topic.scores=" + prefix + "-scores",
                "--set", "ctr.topic.dead-letters=" + prefix + "-dead-letters",
                "--set", "ctr.kafka.group-id=" + prefix,
                "--set", "ctr.kafka.transactional-id-prefix=" + prefix,
                "--set", "ctr.redis.key-prefix=" + prefix,
                "--set", "ctr.attribution.window-ms=5000",
                "--set", "ctr.training.publish-every-samples=500"));
        args.addAll(List.of(flink));
        args.addAll(List.of(extra));
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream capturedOut = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream capturedErr = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(capturedOut);
            System.setErr(capturedErr);
            CommandLine cli = new CommandLine(new RunCommand());
            cli.setOut(new java.io.PrintWriter(capturedOut, true));
            cli.setErr(new java.io.PrintWriter(capturedErr, true));
            int code = cli.execute(args.toArray(String[]::new));
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
            originalOut.print(out.toString(StandardCharsets.UTF_8));
        }
    }
}
