package org.ctrranker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.cli.QueryCommand;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.testing.CommittedSamples;
import org.ctrranker.jobs.testing.RedisContents;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.operators.features.FeedbackConfig;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;
import redis.clients.jedis.Jedis;

/**
 * Generator with faults -> real broker -> the job, bounded, in the mini cluster: every count equals
 * the ground truth, every impression's label is the generator's, no sample's feature snapshot holds
 * an event later than its impression, and a second run over the same topics writes byte-identical
 * samples (feature snapshots included) and byte-identical Redis values (user feedback and market
 * statistics, compared with DUMP under each run's own key prefix).
 */
@ExtendWith(LocalStackExtension.class)
class BoundedJoinsIT {

    @Test
    void labelsAndCountsEqualTheGroundTruthAndASecondRunWritesTheSameLabels(LocalStack stack) throws Exception {
        Map<EventTopic, String> inputs = Map.of(EventTopic.AD_AUCTIONS, "joins-it-auctions",
                EventTopic.AD_IMPRESSIONS, "joins-it-impressions", EventTopic.AD_CLICKS, "joins-it-clicks");
        stack.createTopics(List.of("joins-it-auctions", "joins-it-impressions", "joins-it-clicks",
                "joins-it-samples-1", "joins-it-samples-2", "joins-it-dead-letters"), 4);
        GeneratorConfig generator = GeneratorConfig.builder().seed(9).auctions(6_000)
                .lateClickRate(0.05).duplicateClickRate(0.1).orphanClickRate(0.05).outOfOrderRate(0.2)
                .malformedRate(0.01).unrenderedRate(0.05).build();
        GroundTruth truth;
        try (KafkaEventWriter writer = new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), inputs)) {
            truth = new SyntheticEventGenerator(generator).run(writer);
        }

        Map<String, Object> counts = BoundedRun.run(config(stack, "joins-it-samples-1"), 2);

        assertThat(counts.get("labelled")).isEqualTo(truth.impressions());
        assertThat(counts.get("samples_without_feedback")).as("every sample got its snapshot back").isEqualTo(0L);
        assertThat(counts.get("joined")).isEqualTo(truth.impressions());
        assertThat(counts.get("positives")).isEqualTo(truth.clickedImpressions());
        assertThat(counts.get("late_clicks")).isEqualTo(truth.lateClicks());
        assertThat(counts.get("orphan_clicks")).isEqualTo(truth.orphanClicks());
        assertThat(counts.get("duplicate_clicks")).isEqualTo(truth.duplicateClicks());
        assertThat(counts.get("auctions_without_impression")).isEqualTo(truth.auctionsWithoutImpression());
        assertThat(counts.get("impressions_without_auction")).isEqualTo(0L);
        assertThat(counts.get("dead_letters")).as("malformed + late + orphan + duplicate: nothing unaccounted for")
                .isEqualTo(truth.malformedRecords() + truth.lateClicks() + truth.orphanClicks() + truth.duplicateClicks());

        Map<String, byte[]> first = CommittedSamples.read(stack.endpoints().kafkaBootstrap(), "joins-it-samples-1");
        assertThat(first).hasSize((int) truth.impressions());
        Map<String, TrainingSample> byImpression = CommittedSamples.assertLabelledAsGenerated(truth, first);
        assertThat(byImpression.values()).allSatisfy(s -> assertThat(s.getFeedback()).isNotNull());
        long withClickHistory = byImpression.values().stream().filter(s -> !s.getFeedback().getClicks().isEmpty()).count();
        assertThat(withClickHistory).as("samples whose user had clicked before").isGreaterThan(truth.impressions() / 20);

        queryUserShowsTheStateMirroredToRedis(stack, byImpression.values());

        BoundedRun.run(config(stack, "joins-it-samples-2"), 2);
        Map<String, byte[]> second = CommittedSamples.read(stack.endpoints().kafkaBootstrap(), "joins-it-samples-2");
        CommittedSamples.assertSame(first, second);

        try (Jedis jedis = RedisEndpoint.parse(stack.endpoints().redisUrl()).connect()) {
            String firstPrefix = redisPrefix("joins-it-samples-1");
            String secondPrefix = redisPrefix("joins-it-samples-2");
            Map<String, byte[]> firstFeatures = RedisContents.dumps(jedis, firstPrefix);
            Map<String, byte[]> secondFeatures = RedisContents.dumps(jedis, secondPrefix);
            firstFeatures.keySet().removeIf(k -> !RedisContents.isFeatureKey(k));
            secondFeatures.keySet().removeIf(k -> !RedisContents.isFeatureKey(k));
            assertThat(firstFeatures.keySet()).filteredOn(k -> k.startsWith("user:")).hasSizeGreaterThan(100);
            assertThat(firstFeatures.keySet()).filteredOn(k -> k.startsWith("market:")).isNotEmpty();
            assertThat(secondFeatures.keySet()).isEqualTo(firstFeatures.keySet());
            for (Map.Entry<String, byte[]> entry : firstFeatures.entrySet()) {
                assertThat(secondFeatures.get(entry.getKey())).as("DUMP of %s", entry.getKey()).isEqualTo(entry.getValue());
            }
            Map<String, Map<String, String>> firstServing = RedisContents.hashes(jedis, firstPrefix);
            assertThat(firstServing.keySet()).filteredOn(k -> k.startsWith("rank:")).isNotEmpty();
            RedisContents.assertSameReplayInvariant(firstServing, RedisContents.hashes(jedis, secondPrefix));
        }
    }

    /**
     * {@code bin/ctr query user} on a clicking user: its JSON and text show the mirrored state, whose clicks
     * are the user's last L clicked impressions among the samples; an unknown user exits 1.
     */
    private static void queryUserShowsTheStateMirroredToRedis(LocalStack stack, Collection<TrainingSample> samples)
            throws Exception {
        Map<String, List<TrainingSample>> positivesByUser = new TreeMap<>();
        Map<String, Integer> impressionsByUser = new HashMap<>();
        for (TrainingSample s : samples) {
            impressionsByUser.merge(s.getUserId(), 1, Integer::sum);
            if (s.getLabel() == 1) {
                positivesByUser.computeIfAbsent(s.getUserId(), u -> new ArrayList<>()).add(s);
            }
        }
        // a user with several clicks, well below the open-exposure cap
        String user = positivesByUser.entrySet().stream()
                .filter(e -> impressionsByUser.get(e.getKey()) < 500)
                .max(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow().getKey();
        List<TrainingSample> positives = positivesByUser.get(user);
        positives.sort(Comparator.comparingLong(TrainingSample::getImpressionTimeMs).thenComparing(TrainingSample::getImpressionId));
        List<String> expectedClicks = positives.subList(Math.max(0, positives.size() - 30), positives.size()).stream()
                .map(s -> s.getAdId() + "@" + s.getImpressionTimeMs()).toList();
        assertThat(expectedClicks).hasSizeGreaterThan(1);

        String prefix = redisPrefix("joins-it-samples-1");
        StringWriter json = new StringWriter();
        assertThat(query(json, new StringWriter(), "user", user, "--json", "--redis", stack.endpoints().redisUrl(),
                "--key-prefix", prefix)).isZero();
        JsonNode state = new ObjectMapper().readTree(json.toString());
        assertThat(state.get("key").asText()).isEqualTo(prefix + ":user:{" + user + "}:feedback");
        assertThat(state.get("ttl_ms").asLong()).isBetween(1L, 7 * 24 * 3_600_000L);
        List<String> clicks = new ArrayList<>();
        state.get("clicks").forEach(c -> clicks.add(c.get("ad_id").asText() + "@" + c.get("time_ms").asLong()));
        assertThat(clicks).isEqualTo(expectedClicks);
        // and the exposures the fatigue features count: the user's last N up to the state's time, back to an hour
        // before the newest
        int usersWithRecentExposures = 0;
        for (String someone : new TreeSet<>(impressionsByUser.keySet())) {
            StringWriter someonesJson = new StringWriter();
            assertThat(query(someonesJson, new StringWriter(), "user", someone, "--json", "--redis",
                    stack.endpoints().redisUrl(), "--key-prefix", prefix)).isZero();
            JsonNode someonesState = new ObjectMapper().readTree(someonesJson.toString());
            List<String> recent = new ArrayList<>();
            someonesState.get("recent_exposures").forEach(e -> recent.add(e.get("ad_id").asText() + "@"
                    + e.get("time_ms").asLong() + (e.get("click_time_ms").isNull() ? "" : " clicked")));
            assertThat(recent).as(someone).isEqualTo(lastExposuresOfTheHour(samples, someone,
                    someonesState.get("as_of_ms").asLong()));
            usersWithRecentExposures += recent.isEmpty() ? 0 : 1;
            if (usersWithRecentExposures == 5) {
                break;
            }
        }
        assertThat(usersWithRecentExposures).isEqualTo(5);

        StringWriter text = new StringWriter();
        assertThat(query(text, new StringWriter(), "user", user, "--redis", stack.endpoints().redisUrl(),
                "--key-prefix", prefix)).isZero();
        assertThat(text.toString()).contains("user " + user).contains("clicks: " + clicks.size() + ",")
                .contains("exposures the fatigue features count (at most N, back to an hour before the newest): "
                        + state.get("recent_exposures").size())
                .contains(state.get("clicks").get(0).get("ad_id").asText());

        StringWriter err = new StringWriter();
        assertThat(query(new StringWriter(), err, "user", "no-such-user", "--redis", stack.endpoints().redisUrl(),
                "--key-prefix", prefix)).isEqualTo(1);
        assertThat(err.toString()).contains("no feedback state or scores for no-such-user");
    }

    private static List<String> lastExposuresOfTheHour(Collection<TrainingSample> samples, String user, long asOf) {
        long newest = samples.stream().filter(s -> s.getUserId().equals(user) && s.getImpressionTimeMs() <= asOf)
                .mapToLong(TrainingSample::getImpressionTimeMs).max().orElse(0);
        return samples.stream().filter(s -> s.getUserId().equals(user) && s.getImpressionTimeMs() <= asOf
                        && s.getImpressionTimeMs() >= newest - FeedbackConfig.FATIGUE_HORIZON_MS)
                .sorted(Comparator.comparingLong(TrainingSample::getImpressionTimeMs)
                        .thenComparing(TrainingSample::getImpressionId).reversed())
                .limit(FeedbackConfig.defaults().fatigueExposures())
                .map(s -> s.getAdId() + "@" + s.getImpressionTimeMs() + (s.getLabel() == 1 ? " clicked" : "")).toList();
    }

    private static int query(StringWriter out, StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new QueryCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    /** DUMP (the exact serialized value, TTL aside) of every key under {@code prefix}, by key without it. */
    /** Each run writes Redis under its own prefix, so the second run's values cannot be the first's. */
    private static String redisPrefix(String samplesTopic) {
        return "joins-it-" + samplesTopic.substring(samplesTopic.lastIndexOf('-') + 1);
    }

    private static CtrConfig config(LocalStack stack, String samplesTopic) {
        return CtrConfig.load(null, Map.of(
                "ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap(),
                "ctr.redis.url", stack.endpoints().redisUrl(),
                "ctr.redis.key-prefix", redisPrefix(samplesTopic),
                "ctr.kafka.group-id", "joins-it-" + samplesTopic,
                "ctr.topic.auctions", "joins-it-auctions",
                "ctr.topic.impressions", "joins-it-impressions",
                "ctr.topic.clicks", "joins-it-clicks",
                "ctr.topic.training-samples", samplesTopic,
                "ctr.topic.dead-letters", "joins-it-dead-letters"));
    }
}
