package org.ctrranker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.ctrranker.events.CtrScore;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.testing.CommittedRecords;
import org.ctrranker.jobs.testing.CommittedSamples;
import org.ctrranker.jobs.testing.RedisContents;
import org.ctrranker.jobs.testing.SmallOnlineModel;
import org.ctrranker.localenv.LocalRedisSentinel;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * The online job survives injected failures without a trace: generator with a seed -> real broker -> the
 * whole job, bounded, parallelism 2, file checkpoints every 200 ms, in the mini cluster. Run a has no
 * failure. Runs b and c read the same input with the trainer (b) or the scorers (c) set to fail once
 * (ctr.fault-injection.*), restart from a checkpoint and finish. Each must end exactly as a:
 * every Redis key with every field and value (only the processing-time stamps scored_at_ms and
 * published_processing_time_ms may differ), every committed training sample once and equal, every
 * committed (auction, ad) score once and equal but for scored_at_ms, and model versions 1..n with no gap. Run d writes
 * to a Redis primary and replica under Sentinel (each pipeline waiting for the replica), the primary crashing a third
 * of the way through: the job rides out the failover without restarting and the promoted replica ends as run a's Redis.
 */
@ExtendWith(LocalStackExtension.class)
class OnlineFailoverIT {

    private static final List<String> RUNS = List.of("a", "b", "c", "d");

    @Test
    void runsWithAnInjectedFailureEndWithExactlyWhatAFailureFreeRunWrites(LocalStack stack, @TempDir Path dir)
            throws Exception {
        Map<EventTopic, String> inputs = Map.of(EventTopic.AD_AUCTIONS, "failover-it-auctions",
                EventTopic.AD_IMPRESSIONS, "failover-it-impressions", EventTopic.AD_CLICKS, "failover-it-clicks");
        List<String> topics = new ArrayList<>(List.of("failover-it-auctions", "failover-it-impressions",
                "failover-it-clicks", "failover-it-dead-letters"));
        for (String run : RUNS) {
            topics.add("failover-it-samples-" + run);
            topics.add("failover-it-scores-" + run);
        }
        stack.createTopics(topics, 4);
        GeneratorConfig generator = GeneratorConfig.builder().seed(33).auctions(2_400).auctionsPerSecond(20)
                .users(300).attributionWindowMs(5_000).noFaults().build();
        GroundTruth truth;
        try (KafkaEventWriter writer = new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), inputs)) {
            truth = new SyntheticEventGenerator(generator).run(writer);
        }

        long started = System.nanoTime();
        Map<String, Object> a = BoundedRun.run(config(stack, "a", Map.of()), 2, 3);
        System.out.println("failover IT run a (no failure): " + a);
        assertThat(a.get("scorer_attempt")).as("run a ran once").isEqualTo(0L);
        assertThat(a.get("labelled")).isEqualTo(truth.impressions());
        // One injected failure per run: the trainer's fires on the first attempt only, the scorers' once per job.
        Map<String, Object> b = BoundedRun.run(config(stack, "b",
                Map.of("ctr.fault-injection.trainer-fail-after-samples", "2000")), 2, 3);
        System.out.println("failover IT run b (trainer fails): " + b);
        Map<String, Object> c = BoundedRun.run(config(stack, "c",
                Map.of("ctr.fault-injection.scorer-fail-after-auctions", "500")), 2, 3);
        System.out.println("failover IT run c (scorers fail): " + c);
        System.out.printf("failover IT: three runs in %.1f s%n", (System.nanoTime() - started) / 1e9);

        for (Map<String, Object> failed : List.of(b, c)) {
            assertThat((Long) failed.get("scorer_attempt")).as("failed and restarted: %s", failed).isPositive();
            assertThat((Long) failed.get("ad-auctions")).as("resumed from a checkpoint, not from the start of the input")
                    .isLessThan(truth.auctions());
        }
        assertThat((Long) c.get("scorer_restored_versions")).as("run c restored the scorers' model versions: %s", c)
                .isPositive();
        RedisEndpoint stackRedis = RedisEndpoint.parse(stack.endpoints().redisUrl());
        assertSameAsTheFailureFreeRun(stack, truth, "b", stackRedis);
        assertSameAsTheFailureFreeRun(stack, truth, "c", stackRedis);

        // Run d writes to a primary and replica under Sentinel, each pipeline waiting for the replica, and the primary
        // crashes a third of the way through, its last writes maybe not yet sent to the replica.
        try (LocalRedisSentinel servers = LocalRedisSentinel.start(dir, "failover-it-secret")) {
            int primary = servers.primaryPort();
            CompletableFuture<Long> stoppedAt = CompletableFuture.supplyAsync(() -> {
                long giveUpAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
                while (Long.parseLong(servers.command(primary, "DBSIZE")) < truth.auctions() / 3) {
                    if (System.nanoTime() > giveUpAt) {
                        throw new IllegalStateException("run d never wrote a third of its keys");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                }
                servers.crash(primary);
                return System.nanoTime();
            });
            Map<String, String> sentinel = Map.of("ctr.redis.url", servers.url(), "ctr.redis.wait-replicas", "1");
            Map<String, Object> d = BoundedRun.run(config(stack, "d", sentinel), 2, 3);
            long endedAt = System.nanoTime();
            System.out.println("failover IT run d (Redis fails over): " + d);
            assertThat(stoppedAt.get(10, TimeUnit.SECONDS)).as("the primary crashed before the run ended")
                    .isLessThan(endedAt);
            assertThat(d.get("scorer_attempt")).as("rode out the failover without a restart").isEqualTo(0L);
            assertThat(servers.primaryPort()).as("the replica promoted").isEqualTo(servers.otherPort(primary));
            assertSameAsTheFailureFreeRun(stack, truth, "d", RedisEndpoint.parse(servers.url()));
        }
    }

    private static void assertSameAsTheFailureFreeRun(LocalStack stack, GroundTruth truth, String run,
            RedisEndpoint redisOfRun) throws Exception {
        String bootstrap = stack.endpoints().kafkaBootstrap();
        Map<String, byte[]> samplesA = CommittedSamples.read(bootstrap, "failover-it-samples-a");
        assertThat(samplesA).hasSize((int) truth.impressions());
        CommittedSamples.assertSame(samplesA, CommittedSamples.read(bootstrap, "failover-it-samples-" + run));

        Map<String, CtrScore> scoresA = readScores(stack, "failover-it-scores-a");
        Map<String, CtrScore> scores = readScores(stack, "failover-it-scores-" + run);
        assertThat(scoresA.values().stream().map(CtrScore::getAuctionId).distinct().count()).isEqualTo(truth.auctions());
        assertThat(scores.keySet()).as("run %s: scored (auction, ad) pairs", run).isEqualTo(scoresA.keySet());

        try (Jedis redis = RedisEndpoint.parse(stack.endpoints().redisUrl()).connect();
             Jedis redisRun = redisOfRun.connect()) {
            // every field but RedisContents.PROCESSING_TIME_FIELDS (scored_at_ms, published_processing_time_ms)
            Map<String, Map<String, String>> redisA = RedisContents.replayInvariant(RedisContents.hashes(redis, "failover-a"));
            Map<String, Map<String, String>> redisB = RedisContents.replayInvariant(
                    RedisContents.hashes(redisRun, "failover-" + run));
            assertThat(scoreDifferences(scoresA, scores, redisA, redisB)).as("run %s: scores unlike run a's", run).isEmpty();
            assertThat(redisA.keySet()).filteredOn(k -> k.startsWith("rank:")).hasSize((int) truth.auctions());
            assertThat(redisB.keySet()).as("run %s: Redis keys", run).isEqualTo(redisA.keySet());
            redisA.forEach((key, fields) -> assertThat(redisB.get(key)).as("run %s: %s", run, key).isEqualTo(fields));
            TreeSet<Long> versions = new TreeSet<>();
            redisB.keySet().stream().filter(k -> k.matches("model:\\{ctr}:v\\d+"))
                    .forEach(k -> versions.add(Long.parseLong(k.substring(k.lastIndexOf(":v") + 2))));
            assertThat(versions).as("versions 1..n, no gap").hasSizeGreaterThan(1).first().isEqualTo(1L);
            assertThat(versions.last()).as("versions 1..n, no gap").isEqualTo((long) versions.size());
            System.out.printf("failover IT run %s = run a: %d Redis keys (%d rankings), %d samples, %d scores, model versions 1..%d%n",
                    run, redisA.size(), redisA.keySet().stream().filter(k -> k.startsWith("rank:")).count(),
                    samplesA.size(), scoresA.size(), versions.last());
        }
    }

    /**
     * Every committed score unlike run a's, counted by model version, with whether that version's parameters in Redis
     * are run a's too (a trainer that parted from run a) or not (the scorer's inputs differed), and the first few.
     */
    private static List<String> scoreDifferences(Map<String, CtrScore> expected, Map<String, CtrScore> actual,
            Map<String, Map<String, String>> redisA, Map<String, Map<String, String>> redisB) {
        Map<Long, List<String>> byVersion = new TreeMap<>();
        expected.forEach((key, score) -> {
            CtrScore other = actual.get(key);
            if (!score.equals(other)) {
                byVersion.computeIfAbsent(score.getModelVersion(), v -> new ArrayList<>()).add(key + " pCTR "
                        + score.getPctr() + " v" + score.getModelVersion() + ", now " + other.getPctr() + " v"
                        + other.getModelVersion());
            }
        });
        List<String> differences = new ArrayList<>();
        byVersion.forEach((version, keys) -> {
            String versionKey = "model:{ctr}:parameters:v" + version;
            boolean sameParameters = version == 0 || java.util.Objects.equals(redisA.get(versionKey), redisB.get(versionKey));
            differences.add(keys.size() + " scores of version " + version + " (of "
                    + expected.values().stream().filter(s -> s.getModelVersion() == version).count() + "; its parameters "
                    + (sameParameters ? "equal" : "differ") + "), e.g. " + keys.subList(0, Math.min(5, keys.size())));
        });
        return differences;
    }

    /** Committed scores by auction/ad with scored_at_ms cleared; fails on a candidate scored twice. */
    private static Map<String, CtrScore> readScores(LocalStack stack, String topic) throws Exception {
        AvroCodec<CtrScore> codec = AvroCodec.forTopic(EventTopic.CTR_SCORES, CtrScore.class);
        Map<String, CtrScore> scores = new HashMap<>();
        CommittedRecords.read(stack.endpoints().kafkaBootstrap(), topic, value -> {
            CtrScore score = codec.decode(value);
            score.setScoredAtMs(0L);
            String key = score.getAuctionId() + "/" + score.getAdId();
            assertThat(scores.put(key, score)).as("scored twice: %s", key).isNull();
        });
        return scores;
    }

    private static CtrConfig config(LocalStack stack, String run, Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>();
        settings.put("ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap());
        settings.put("ctr.redis.url", stack.endpoints().redisUrl());
        settings.put("ctr.redis.key-prefix", "failover-" + run);
        settings.put("ctr.kafka.group-id", "failover-it-" + run);
        settings.put("ctr.topic.auctions", "failover-it-auctions");
        settings.put("ctr.topic.impressions", "failover-it-impressions");
        settings.put("ctr.topic.clicks", "failover-it-clicks");
        settings.put("ctr.topic.training-samples", "failover-it-samples-" + run);
        settings.put("ctr.topic.scores", "failover-it-scores-" + run);
        settings.put("ctr.topic.dead-letters", "failover-it-dead-letters");
        settings.put("ctr.features.item.redis-mirror", "true"); // its keys too must end as in run a
        SmallOnlineModel.applyTo(settings);
        // The injected failures wait for a completed checkpoint; frequent ones complete well before the
        // small input is through, whatever the machine's speed. Unaligned from the start: an aligned barrier
        // queued behind the trainer's backlog for the 5 s default timeout, and once the trainer had trained
        // every sample before any checkpoint completed, so its failure never fired.
        settings.put("ctr.checkpoint.interval-ms", "200");
        settings.put("ctr.checkpoint.aligned-timeout-ms", "0");
        settings.put("ctr.training.publish-every-samples", "300");
        settings.putAll(overrides);
        return CtrConfig.load(null, settings);
    }
}
