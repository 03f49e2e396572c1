package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.features.FeedbackEvents.click;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.localenv.StackEndpoints;
import org.ctrranker.operators.redis.FeatureReader;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.RedisKeyspace;
import org.ctrranker.operators.redis.VersionedRedisSink;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.UnifiedJedis;

/**
 * Both feature stages in a Flink job (mini cluster, parallelism 2) writing to the real redis-server:
 * every user's mirrored state is readable and equals the batch alignment of its full log; running the
 * same input again leaves every key byte-identical (DUMP); and the bytes per user in Redis.
 */
@ExtendWith(LocalStackExtension.class)
class FeatureStagesRedisIT {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final String PREFIX = "features-it";
    private static final long W = 600_000;

    private final StackEndpoints stack;

    FeatureStagesRedisIT(StackEndpoints stack) {
        this.stack = stack;
    }

    @Test
    void mirroredStateIsReadableAndAReplayLeavesEveryHashUnchanged() throws Exception {
        List<TrainingSample> impressions = new ArrayList<>();
        List<AdClick> clicks = new ArrayList<>();
        generate(new Random(11), impressions, clicks);
        FullUserHistory.Events full = FullUserHistory.of("full-user", 40);
        impressions.addAll(full.impressions());
        clicks.addAll(full.clicks());
        // sources emit in list order: keep it within the watermarks' out-of-orderness bound
        impressions.sort(java.util.Comparator.comparingLong(TrainingSample::getImpressionTimeMs));
        clicks.sort(java.util.Comparator.comparingLong(AdClick::getClickTimeMs));

        FeedbackConfig feedback = FeedbackConfig.builder().attributionWindowMs(W).redisKeyPrefix(PREFIX).build();
        AieConfig aie = AieConfig.builder().minSamples(20).minPositives(3).publishIntervalMs(60_000).redisKeyPrefix(PREFIX).build();

        try (UnifiedJedis jedis = RedisEndpoint.parse(stack.redisUrl()).client()) {
            RedisKeyspace.deleteAll(jedis, PREFIX + ":*");
            runJob(impressions, clicks, feedback, aie);
            Map<String, Map<String, String>> first = RedisKeyspace.hashesAll(jedis, PREFIX + ":*");

            Map<String, List<TrainingSample>> impressionsByUser = new TreeMap<>();
            impressions.forEach(s -> impressionsByUser.computeIfAbsent(s.getUserId(), u -> new ArrayList<>()).add(s));
            int usersWithClicks = 0;
            for (Map.Entry<String, List<TrainingSample>> user : impressionsByUser.entrySet()) {
                String key = RedisKeys.userFeedback(PREFIX, user.getKey());
                assertThat(jedis.pttl(key)).as(key).isPositive();
                UserFeedbackSnapshot mirrored = FeatureReader.userFeedback(jedis, PREFIX, user.getKey()).orElseThrow();
                List<AdClick> userClicks = clicks.stream().filter(c -> c.getUserId().equals(user.getKey())).toList();
                // after the run every window has closed: the mirror holds the final alignment
                UserFeedbackSnapshot expected = BatchAlignmentReference.snapshot(user.getValue(), userClicks,
                        mirrored.getAsOfMs(), null, 30, 5, W);
                assertThat(mirrored).as(user.getKey()).isEqualTo(expected);
                assertThat(jedis.hget(key, UserFeedbackFunction.FIELD_AS_OF)).isEqualTo(Long.toString(mirrored.getAsOfMs()));
                usersWithClicks += mirrored.getClicks().isEmpty() ? 0 : 1;
            }
            assertThat(usersWithClicks).isGreaterThan(10);
            assertThat(FeatureReader.userFeedback(jedis, PREFIX, "never-seen")).isEmpty();
            String market = RedisKeys.market(PREFIX, "slot-0#1"); // only generated users bid on slot-0
            Map<String, String> statistics = FeatureReader.marketStatistics(jedis, PREFIX, "slot-0#1");
            assertThat(Long.parseLong(statistics.get("count"))).isPositive();
            assertThat(statistics.get("market_price_quantiles_micros").split(",")).hasSize(9);
            assertThat(Double.parseDouble(statistics.get("sigma"))).isPositive();

            long fullUserBytes = jedis.memoryUsage(RedisKeys.userFeedback(PREFIX, "full-user"));
            long total = 0;
            for (String user : impressionsByUser.keySet()) {
                total += jedis.memoryUsage(RedisKeys.userFeedback(PREFIX, user));
            }
            System.out.printf("Redis MEMORY USAGE: full user (30 clicks, 300 aligned unclicks) %d bytes;"
                    + " mean over %d generated users %d bytes; ctr:market hash %d bytes%n", fullUserBytes,
                    impressionsByUser.size(), total / impressionsByUser.size(), jedis.memoryUsage(market));

            runJob(impressions, clicks, feedback, aie); // the replay
            Map<String, Map<String, String>> second = RedisKeyspace.hashesAll(jedis, PREFIX + ":*");
            assertThat(second.keySet()).isEqualTo(first.keySet());
            for (String key : first.keySet()) {
                assertThat(second.get(key)).as(key).isEqualTo(first.get(key));
            }
        }
    }

    private void runJob(List<TrainingSample> impressions, List<AdClick> clicks, FeedbackConfig feedback, AieConfig aie)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<TrainingSample> impressionStream = env.fromData(impressions, AvroTypeInfo.forRecord(TrainingSample.class))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<TrainingSample>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner((s, ts) -> s.getImpressionTimeMs()));
        DataStream<AdClick> clickStream = env.fromData(clicks, AvroTypeInfo.forRecord(AdClick.class))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<AdClick>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner((c, ts) -> c.getClickTimeMs()));
        var enriched = UserFeatures.attach(impressionStream, clickStream, feedback);
        UserFeatures.mirrorToRedis(enriched, VersionedRedisSink.to(stack.redisUrl()));

        // labelled samples straight from the log (the attribution stage sits in between in the real job)
        DataStream<TrainingSample> labelled = env.fromData(labelled(impressions, clicks), AvroTypeInfo.forRecord(TrainingSample.class))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<TrainingSample>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner((s, ts) -> s.getLabelTimeMs()));
        AuctionStatistics.publishToRedis(AuctionStatistics.attach(labelled, aie), VersionedRedisSink.to(stack.redisUrl()));
        env.execute("feature stages -> Redis");
    }

    private static List<TrainingSample> labelled(List<TrainingSample> impressions, List<AdClick> clicks) {
        java.util.Set<String> clicked = new java.util.HashSet<>();
        clicks.forEach(c -> clicked.add(c.getImpressionId()));
        List<TrainingSample> out = new ArrayList<>();
        for (TrainingSample s : impressions) {
            out.add(TrainingSample.newBuilder(s).setLabel(clicked.contains(s.getImpressionId()) ? 1 : 0)
                    .setLabelTimeMs(s.getImpressionTimeMs() + W).setAttributionWindowMs(W).build());
        }
        return out;
    }

    /** 40 users with 20..59 impressions each, about 15% clicked: the "generated users" of the size figures. */
    static void generate(Random random, List<TrainingSample> impressions, List<AdClick> clicks) {
        for (int u = 0; u < 40; u++) {
            String user = "user-" + u;
            long t = 1_700_000_000_000L + random.nextInt(3_600_000);
            for (int i = 0; i < 20 + random.nextInt(40); i++) {
                t += random.nextInt(120_000);
                String id = UUID.nameUUIDFromBytes((user + i).getBytes(StandardCharsets.UTF_8)).toString();
                long bid = 200_000 + random.nextInt(2_000_000);
                TrainingSample s = FeedbackEvents.sample(user, id, "ad-" + random.nextInt(500), t, "slot-" + random.nextInt(3), 1,
                        bid, (long) (bid * random.nextDouble()), 0);
                impressions.add(s);
                if (random.nextDouble() < 0.15) {
                    clicks.add(click(user, id, t + random.nextInt(400_000)));
                }
            }
        }
    }
}
