package org.ctrranker.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.ctrranker.events.CtrScore;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.localenv.StackEndpoints;
import org.ctrranker.operators.features.ItemCountsMirror;
import org.ctrranker.operators.features.ItemTick;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.VersionedRedisWriter;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.scoring.ModelUpdate;
import org.ctrranker.operators.scoring.OnlineConfig;
import org.ctrranker.operators.scoring.ServingWrites;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * {@code bin/ctr query rank|user|ad|model} against a real redis-server holding what the job's own writers
 * ({@link ServingWrites} and {@link ItemCountsMirror} through {@link VersionedRedisWriter}) put there: the commands read the serving
 * contract back as written, newest version first, and exit 1 for what is absent.
 */
@ExtendWith(LocalStackExtension.class)
class QueryServingStateIT {

    private static final String PREFIX = "query-it";
    private static final OnlineConfig CONFIG = OnlineConfig.fromSettings(
            CtrConfig.fromArgs(new String[] {"--set", "ctr.redis.key-prefix=" + PREFIX}).asMap());

    private final StackEndpoints stack;

    QueryServingStateIT(StackEndpoints stack) {
        this.stack = stack;
    }

    @BeforeAll
    static void writeServingState(StackEndpoints stack) throws Exception {
        try (VersionedRedisWriter writer = new VersionedRedisWriter(RedisEndpoint.parse(stack.redisUrl()), 100, null)) {
            for (VersionedWrite w : ServingWrites.model(CONFIG, model(1, 0.61))) {
                writer.write(w);
            }
            // an older auction of the same user arrives after the newer one: it must not replace the user's scores
            List<CtrScore> newer = ranked("a-2", 2_000L, 1, new double[] {0.02, 0.05, 0.01}, new long[] {1_000_000, 1_000_000, 3_000_000});
            List<CtrScore> older = ranked("a-1", 1_000L, 1, new double[] {0.3, 0.1}, new long[] {1_000_000, 1_000_000});
            writer.write(ServingWrites.ranking(CONFIG, newer));
            writer.write(ServingWrites.userScores(CONFIG, newer));
            writer.flush();
            writer.write(ServingWrites.ranking(CONFIG, older));
            writer.write(ServingWrites.userScores(CONFIG, older));
            for (VersionedWrite w : ServingWrites.model(CONFIG, model(2, 0.64))) {
                writer.write(w);
            }
            ModelUpdate rejected = model(3, 0.55);
            rejected.live = false;
            rejected.liveVersion = 2;
            rejected.gateReason = "held-out AUC below the live version's by more than the margin";
            for (VersionedWrite w : ServingWrites.model(CONFIG, rejected)) {
                writer.write(w);
            }
            // the mirror of an ad's counts: a replayed older tick must not replace the newer one
            ItemCountsMirror items = new ItemCountsMirror(PREFIX, 3_600_000L);
            writer.write(items.map(new ItemTick("ad-7", 5_999L, 40, 3)));
            writer.flush();
            writer.write(items.map(new ItemTick("ad-7", 4_999L, 30, 1)));
            writer.flush();
        }
    }

    @Test
    void rankShowsTheAuctionsAdsInEcpmOrderWithTheirModelVersion() throws Exception {
        StringWriter json = new StringWriter();
        assertThat(query(json, new StringWriter(), "rank", "a-2", "--json")).isZero();
        JsonNode ranking = new ObjectMapper().readTree(json.toString());
        assertThat(ranking.get("key").asText()).isEqualTo(PREFIX + ":rank:{a-2}");
        assertThat(ranking.get("model_version").asLong()).isEqualTo(1);
        assertThat(ranking.get("event_time_ms").asLong()).isEqualTo(2_000L);
        assertThat(ranking.get("age_ms").asLong()).isNotNegative();
        assertThat(ranking.get("ttl_ms").asLong()).isPositive();
        List<String> ads = new ArrayList<>();
        ranking.get("ads").forEach(a -> ads.add(a.get("ad_id").asText()));
        // eCPM: ad-1 0.05 x 1e6 = 50,000; ad-2 0.01 x 3e6 = 30,000; ad-0 0.02 x 1e6 = 20,000
        assertThat(ads).containsExactly("ad-1", "ad-2", "ad-0");
        assertThat(ranking.get("ads").get(0).get("pctr").asDouble()).isEqualTo(0.05);
        assertThat(ranking.get("ads").get(0).get("ecpm").asDouble()).isEqualTo(50_000.0);

        StringWriter text = new StringWriter();
        assertThat(query(text, new StringWriter(), "rank", "a-2", "--top", "2")).isZero();
        assertThat(text.toString()).contains("model ctr v1").contains("ad-1").contains("ad-2").doesNotContain("ad-0")
                .contains("(2 of 3 candidates");

        StringWriter err = new StringWriter();
        assertThat(query(new StringWriter(), err, "rank", "never-scored")).isEqualTo(1);
        assertThat(err.toString()).contains("no ranking for never-scored");
    }

    @Test
    void userShowsTheScoresOfTheLatestAuctionNotOfOneReplayedLater() throws Exception {
        StringWriter json = new StringWriter();
        assertThat(query(json, new StringWriter(), "user", "u-1", "--json")).isZero();
        JsonNode scores = new ObjectMapper().readTree(json.toString()).get("latest_scores");
        assertThat(scores.get("auction_id").asText()).isEqualTo("a-2");
        assertThat(scores.get("ads")).hasSize(3);
        assertThat(scores.get("ads").get(0).get("ad_id").asText()).isEqualTo("ad-1");

        StringWriter text = new StringWriter();
        assertThat(query(text, new StringWriter(), "user", "u-1")).isZero();
        assertThat(text.toString()).contains("no feedback state").contains("latest scores: auction a-2");

        assertThat(query(new StringWriter(), new StringWriter(), "user", "nobody")).isEqualTo(1);
    }

    @Test
    void modelShowsTheNewestLiveVersionAndListsEveryStoredOneRejectedToo() throws Exception {
        StringWriter json = new StringWriter();
        assertThat(query(json, new StringWriter(), "model", "--versions", "--json")).isZero();
        JsonNode model = new ObjectMapper().readTree(json.toString());
        assertThat(model.get("live").get("version").asLong()).isEqualTo(2);
        assertThat(model.get("live").get("fields").get("progressive_auc").asDouble()).isEqualTo(0.64);
        assertThat(model.get("live").get("age_ms").asLong()).isNotNegative();
        List<Long> versions = new ArrayList<>();
        model.get("versions").forEach(v -> versions.add(v.get("version").asLong()));
        assertThat(versions).containsExactly(1L, 2L, 3L);
        assertThat(model.get("versions").get(2).get("fields").get("status").asText()).isEqualTo("rejected");
        assertThat(model.get("versions").get(0).get("fields").has("parameters_bytes")).isTrue();

        StringWriter text = new StringWriter();
        assertThat(query(text, new StringWriter(), "model")).isZero();
        assertThat(text.toString()).contains("model ctr: live version 2").contains("progressive_auc");
        StringWriter listed = new StringWriter();
        assertThat(query(listed, new StringWriter(), "model", "--versions")).isZero();
        assertThat(listed.toString()).contains("versions stored: 3").containsPattern("v3 +rejected");

        StringWriter err = new StringWriter();
        assertThat(query(new StringWriter(), err, "model", "--name", "unpublished")).isEqualTo(1);
        assertThat(err.toString()).contains("no live version of model unpublished");
    }

    @Test
    void adShowsTheCountsOfItsNewestTick() throws Exception {
        StringWriter json = new StringWriter();
        assertThat(query(json, new StringWriter(), "ad", "ad-7", "--json")).isZero();
        JsonNode ad = new ObjectMapper().readTree(json.toString());
        assertThat(ad.get("key").asText()).isEqualTo(PREFIX + ":item:{ad-7}");
        assertThat(ad.get("as_of_ms").asLong()).isEqualTo(5_999L);
        assertThat(ad.get("impressions").asLong()).isEqualTo(40);
        assertThat(ad.get("clicks").asLong()).isEqualTo(3);
        assertThat(ad.get("ctr").asDouble()).isEqualTo(0.075);
        assertThat(ad.get("ttl_ms").asLong()).isBetween(1L, 3_600_000L);

        StringWriter text = new StringWriter();
        assertThat(query(text, new StringWriter(), "ad", "ad-7")).isZero();
        assertThat(text.toString()).contains("40 impressions, 3 clicks, CTR 0.0750");

        StringWriter err = new StringWriter();
        assertThat(query(new StringWriter(), err, "ad", "never-shown")).isEqualTo(1);
        assertThat(err.toString()).contains("no counts for never-shown");
    }

    private int query(StringWriter out, StringWriter err, String... args) {
        CommandLine cli = new CommandLine(new QueryCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--redis", stack.redisUrl(), "--key-prefix", PREFIX));
        return cli.execute(all.toArray(String[]::new));
    }

    private static ModelUpdate model(long version, double auc) {
        ModelUpdate update = new ModelUpdate();
        update.modelName = "ctr";
        update.version = version;
        update.live = true;
        update.liveVersion = version;
        update.gateReason = "passed";
        update.parameters = new byte[] {1, 2, 3, (byte) version};
        update.samplesTrained = version * 1000;
        update.eventTimeMs = version * 60_000;
        update.publishedProcessingTimeMs = System.currentTimeMillis();
        update.progressiveAuc = auc;
        update.progressiveLogLoss = 0.1;
        return update;
    }

    /** The scorer's output for one auction: candidates ad-0.., ranked by eCPM = pCTR x bid. */
    private static List<CtrScore> ranked(String auction, long time, long version, double[] pctr, long[] bids) {
        List<CtrScore> scores = new ArrayList<>();
        for (int i = 0; i < pctr.length; i++) {
            scores.add(CtrScore.newBuilder().setAuctionId(auction).setUserId("u-1").setAdId("ad-" + i).setPctr(pctr[i])
                    .setBidMicros(bids[i]).setEcpm(pctr[i] * bids[i]).setRank(0).setModelName("ctr")
                    .setModelVersion(version).setEventTimeMs(time).setScoredAtMs(System.currentTimeMillis()).build());
        }
        scores.sort((a, b) -> Double.compare(b.getEcpm(), a.getEcpm()));
        for (int r = 0; r < scores.size(); r++) {
            scores.get(r).setRank(r + 1);
        }
        return scores;
    }
}
