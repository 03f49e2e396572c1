package org.ctrranker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Function;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.testing.CommittedRecords;
import org.ctrranker.jobs.testing.CommittedSamples;
import org.ctrranker.jobs.testing.SmallOnlineModel;
import org.ctrranker.jobs.testing.ThreadPriorities;
import org.ctrranker.localenv.LocalRedisCluster;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;

/**
 * Generator with a seed -> real broker -> the whole job, bounded, in the mini cluster -> real Redis (one server, and
 * a Redis Cluster of three primaries) and the ctr-scores topic: every auction has a ranking in Redis in eCPM order, stamped with a model
 * version, equal to its committed CtrScore records; every impression became a labelled sample the
 * trainer trained on; the trainer published several versions and the scorers swapped to newer ones
 * while the job ran.
 */
@ExtendWith(LocalStackExtension.class)
class OnlineRankingIT {

    @Test
    void everyAuctionIsRankedByEcpmWithALiveModelVersionThatKeepsRising(LocalStack stack) throws Exception {
        try (UnifiedJedis redis = RedisEndpoint.parse(stack.endpoints().redisUrl()).client()) {
            rankAndCheck(stack, "online-it", stack.endpoints().redisUrl(), redis::keys); // a test's small Redis: KEYS is fine
        }
    }

    /** The same job and checks with its serving state in a Redis Cluster of three primaries. */
    @Test
    void theSameOnARedisCluster(LocalStack stack, @TempDir Path dir) throws Exception {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(dir, 3)) {
            rankAndCheck(stack, "online-cluster-it", cluster.url(), pattern -> {
                Set<String> keys = new java.util.HashSet<>();
                for (int port : cluster.ports()) {
                    try (Jedis primary = new Jedis("127.0.0.1", port)) {
                        keys.addAll(primary.keys(pattern));
                    }
                }
                return keys;
            });
        }
    }

    /** Runs the job on its own topics and key prefix ({@code name}) with its serving state at {@code redisUrl}. */
    private static void rankAndCheck(LocalStack stack, String name, String redisUrl, Function<String, Set<String>> keys)
            throws Exception {
        Map<EventTopic, String> inputs = Map.of(EventTopic.AD_AUCTIONS, name + "-auctions",
                EventTopic.AD_IMPRESSIONS, name + "-impressions", EventTopic.AD_CLICKS, name + "-clicks");
        stack.createTopics(List.of(name + "-auctions", name + "-impressions", name + "-clicks",
                name + "-samples", name + "-scores", name + "-dead-letters"), 4);
        GeneratorConfig generator = GeneratorConfig.builder().seed(21).auctions(4_000).auctionsPerSecond(20)
                .users(400).attributionWindowMs(5_000).noFaults().build();
        GroundTruth truth;
        try (KafkaEventWriter writer = new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), inputs)) {
            truth = new SyntheticEventGenerator(generator).run(writer);
        }

        Map<String, Object> counts;
        try (ThreadPriorities priorities = new ThreadPriorities()) {
            counts = BoundedRun.run(config(stack, name, redisUrl), 2);
            assertYieldingStages(priorities);
        }
        System.out.println("online run: " + counts);

        assertThat(counts.get("labelled")).isEqualTo(truth.impressions());
        long trained = (Long) counts.get("samples_trained");
        assertThat(trained + (Long) counts.get("samples_held_out")).as("every labelled impression is trained on or held out")
                .isEqualTo(truth.impressions());
        assertThat((Long) counts.get("samples_held_out")).as("the gate's held-out slice").isPositive()
                .isLessThan(truth.impressions() / 10);
        assertThat(counts.get("scored_auctions")).isEqualTo(truth.auctions());
        assertThat((Long) counts.get("model_versions")).isGreaterThan(1L);
        assertThat((Long) counts.get("scorer_model_swaps")).as("scorers loaded published versions").isGreaterThan(0L);

        Map<String, List<CtrScore>> committed = readScores(stack, name + "-scores");
        assertThat(committed).hasSize((int) truth.auctions());
        Map<Long, Integer> auctionsPerVersion = new HashMap<>();
        try (UnifiedJedis redis = RedisEndpoint.parse(redisUrl).client()) {
            Set<String> rankingKeys = keys.apply(name + ":rank:*");
            assertThat(rankingKeys).hasSize((int) truth.auctions());
            for (Map.Entry<String, List<CtrScore>> entry : committed.entrySet()) {
                String key = name + ":rank:{" + entry.getKey() + "}";
                Map<String, String> ranking = redis.hgetAll(key);
                assertThat(ranking).as(key).isNotEmpty();
                List<CtrScore> byRank = new ArrayList<>(entry.getValue());
                byRank.sort(Comparator.comparingInt(CtrScore::getRank));
                assertThat(byRank.get(0).getRank()).isEqualTo(1);
                assertThat(byRank.get(byRank.size() - 1).getRank()).as("ranks 1..n, each once").isEqualTo(byRank.size());
                assertRankedByEcpm(key, ranking, byRank);
                long version = Long.parseLong(ranking.get("model_version"));
                auctionsPerVersion.merge(version, 1, Integer::sum);
                assertThat(redis.pttl(key)).as("TTL of " + key).isPositive();
            }
            Map<String, String> current = redis.hgetAll(name + ":model:{ctr}:current");
            long live = Long.parseLong(current.get("live_version"));
            long versions = (Long) counts.get("model_versions");
            assertThat(live).isBetween(1L, versions);
            assertThat(current.get("status")).isEqualTo("live");
            assertThat(redis.hget(name + ":model:{ctr}:v" + versions, "status"))
                    .as("the last version cut, live or rejected").isIn("live", "rejected");
            assertThat(Long.parseLong(current.get("samples_trained"))).isLessThanOrEqualTo(trained);
            assertThat(Double.parseDouble(current.get("progressive_auc"))).isBetween(0.0, 1.0);
            byte[] parameters = org.ctrranker.operators.scoring.ServingReader.parameters(redis, name, "ctr", live)
                    .orElseThrow(() -> new AssertionError("no parameters of the live version " + live));
            assertThat(parameters).as("the live version's parameters, whole")
                    .hasSize(Integer.parseInt(current.get("parameters_bytes")))
                    .startsWith("CTRM".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertThat(redis.pttl(RedisKeys.modelParameters(name, "ctr", live))).isPositive();
            assertUserScoresAreTheLatestAuctions(redis, keys, name, committed);
            assertItemCountsAreEachAdsTotals(redis, keys, name,
                    CommittedSamples.read(stack.endpoints().kafkaBootstrap(), name + "-samples"));
        }
        System.out.println("auctions per model version: " + auctionsPerVersion);
        assertThat(auctionsPerVersion.keySet().stream().mapToLong(Long::longValue).max().orElse(0))
                .as("rankings made by a version the trainer published while the job ran").isGreaterThan(0L);
    }

    /** ctr.runtime.background-nice (idle by default): the trainer and a scorer's version loader yield; scorers do not. */
    private static void assertYieldingStages(ThreadPriorities priorities) {
        OptionalInt own = BackgroundPriority.currentThreadNice();
        if (own.isEmpty()) {
            return; // not Linux: nothing to read
        }
        assertThat(priorities.of("online trainer")).as("the trainer's task thread").contains("idle");
        assertThat(priorities.of("scorer version")).as("a scorer's version loader").contains("idle");
        assertThat(priorities.of("auction scorer")).as("the scorers' task threads")
                .containsOnly("nice " + own.getAsInt());
    }

    /**
     * Each ad's mirrored counts, once the bounded input has ended, are its impressions in the committed samples and the
     * clicked ones among them (a click counts once per impression, within the window, as the label does).
     */
    private static void assertItemCountsAreEachAdsTotals(UnifiedJedis redis, Function<String, Set<String>> keys,
            String prefix, Map<String, byte[]> samples) {
        Map<String, long[]> expected = new HashMap<>();
        samples.values().forEach(bytes -> {
            TrainingSample sample = CommittedSamples.decode(bytes);
            long[] counts = expected.computeIfAbsent(sample.getAdId(), ad -> new long[3]);
            counts[0]++;
            counts[1] += sample.getLabel();
            counts[2] = Math.max(counts[2], sample.getImpressionTimeMs());
        });
        assertThat(keys.apply(prefix + ":item:*")).hasSize(expected.size());
        expected.forEach((ad, counts) -> {
            String key = RedisKeys.item(prefix, ad);
            Map<String, String> stored = redis.hgetAll(key);
            assertThat(Long.parseLong(stored.get("impressions"))).as("impressions of %s", ad).isEqualTo(counts[0]);
            assertThat(Long.parseLong(stored.get("clicks"))).as("clicks of %s", ad).isEqualTo(counts[1]);
            assertThat(Long.parseLong(stored.get("as_of_ms"))).as("as of").isGreaterThanOrEqualTo(counts[2])
                    .isEqualTo(Long.parseLong(stored.get("version")));
            assertThat(redis.pttl(key)).as("TTL of " + key).isPositive();
        });
    }

    /**
     * Each user's scores key holds the committed scores of the user's latest auction (request time, then the
     * larger auction id: the writer's tie-break), field for field.
     */
    private static void assertUserScoresAreTheLatestAuctions(UnifiedJedis redis, Function<String, Set<String>> keys,
            String prefix, Map<String, List<CtrScore>> committed) {
        Map<String, List<CtrScore>> latestByUser = new HashMap<>();
        Comparator<List<CtrScore>> order = Comparator.<List<CtrScore>>comparingLong(s -> s.get(0).getEventTimeMs())
                .thenComparing(s -> s.get(0).getAuctionId(), (x, y) -> java.util.Arrays.compareUnsigned(
                        x.getBytes(java.nio.charset.StandardCharsets.UTF_8), y.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        committed.values().forEach(scores -> latestByUser.merge(scores.get(0).getUserId(), scores,
                (x, y) -> order.compare(x, y) >= 0 ? x : y));
        assertThat(keys.apply(prefix + ":user:*:scores")).hasSize(latestByUser.size());
        latestByUser.forEach((user, scores) -> {
            CtrScore first = scores.get(0);
            Map<String, String> expected = new HashMap<>();
            expected.put("version", Long.toString(first.getEventTimeMs()));
            expected.put("event_time_ms", Long.toString(first.getEventTimeMs()));
            expected.put("auction_id", first.getAuctionId());
            expected.put("model_name", first.getModelName());
            expected.put("model_version", Long.toString(first.getModelVersion()));
            scores.forEach(s -> expected.put("ad:" + s.getAdId(), s.getPctr() + "," + s.getEcpm()));
            Map<String, String> stored = redis.hgetAll(prefix + ":user:{" + user + "}:scores");
            assertThat(stored.remove("scored_at_ms")).as("scored_at_ms of %s", user).isNotNull();
            assertThat(stored).as("scores of %s", user).isEqualTo(expected);
        });
    }

    /** The Redis ranking lists the committed scores in rank order, with eCPM = pCTR x bid, non-increasing. */
    private static void assertRankedByEcpm(String key, Map<String, String> ranking, List<CtrScore> byRank) {
        String[] ads = ranking.get("ads").split(",");
        String[] ecpm = ranking.get("ecpm").split(",");
        String[] pctr = ranking.get("pctr").split(",");
        assertThat(ads).as(key).hasSize(byRank.size());
        for (int i = 0; i < ads.length; i++) {
            CtrScore score = byRank.get(i);
            assertThat(ads[i]).as(key).isEqualTo(score.getAdId());
            assertThat(Double.parseDouble(pctr[i])).isEqualTo(score.getPctr());
            assertThat(Double.parseDouble(ecpm[i])).isEqualTo(score.getEcpm())
                    .isCloseTo(score.getPctr() * score.getBidMicros(), org.assertj.core.data.Offset.offset(1e-6));
            assertThat(score.getModelVersion()).isEqualTo(Long.parseLong(ranking.get("model_version")));
            if (i > 0) {
                assertThat(Double.parseDouble(ecpm[i])).as(key + " in eCPM order").isLessThanOrEqualTo(Double.parseDouble(ecpm[i - 1]));
            }
        }
    }

    private static CtrConfig config(LocalStack stack, String name, String redisUrl) {
        Map<String, String> settings = new HashMap<>();
        settings.put("ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap());
        settings.put("ctr.redis.url", redisUrl);
        settings.put("ctr.redis.key-prefix", name);
        settings.put("ctr.kafka.group-id", name);
        settings.put("ctr.topic.auctions", name + "-auctions");
        settings.put("ctr.topic.impressions", name + "-impressions");
        settings.put("ctr.topic.clicks", name + "-clicks");
        settings.put("ctr.topic.training-samples", name + "-samples");
        settings.put("ctr.topic.scores", name + "-scores");
        settings.put("ctr.topic.dead-letters", name + "-dead-letters");
        settings.put("ctr.features.item.redis-mirror", "true");
        SmallOnlineModel.applyTo(settings);
        settings.put("ctr.training.publish-every-samples", "400");
        return CtrConfig.load(null, settings);
    }

    /** Committed CtrScore records by auction; fails on a candidate scored twice. */
    private static Map<String, List<CtrScore>> readScores(LocalStack stack, String topic) throws Exception {
        AvroCodec<CtrScore> codec = AvroCodec.forTopic(EventTopic.CTR_SCORES, CtrScore.class);
        Map<String, List<CtrScore>> scores = new HashMap<>();
        Set<String> seen = new java.util.HashSet<>();
        CommittedRecords.read(stack.endpoints().kafkaBootstrap(), topic, value -> {
            CtrScore score = codec.decode(value);
            assertThat(seen.add(score.getAuctionId() + "/" + score.getAdId())).as("scored twice: %s", score).isTrue();
            scores.computeIfAbsent(score.getAuctionId(), k -> new ArrayList<>()).add(score);
        });
        return scores;
    }
}
