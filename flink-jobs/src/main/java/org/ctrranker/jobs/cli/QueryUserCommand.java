package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.redis.FeatureReader;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.scoring.ServingReader;
import org.ctrranker.operators.scoring.ServingReader.RankedAd;
import org.ctrranker.operators.scoring.ServingReader.UserScores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bin/ctr query user ID}: the user's TEM4CTR aligned feedback state as the job mirrored it to Redis,
 * and the scores of the user's latest scored auction.
 */
@Command(name = "user", mixinStandardHelpOptions = true,
        description = {"Prints a user's aligned click/unclick state from Redis (<prefix>:user:{ID}:feedback):",
                "the last L clicks, oldest first, each with its nearest unclicked exposures before and after,",
                "and the most recent unclicks; then the scores of the user's latest scored auction",
                "(<prefix>:user:{ID}:scores). Exit status 1 when Redis holds neither for the user.",
                "The Redis password may come from the environment variable CTR_REDIS_PASSWORD."})
public final class QueryUserCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServingStateOptions serving;

    @Parameters(index = "0", paramLabel = "USER_ID", description = "The user id, as in the events.")
    String userId;

    @Option(names = "--json", description = "One JSON object instead of the readable layout.")
    boolean json;

    /** What Redis holds for the user: either part may be absent. */
    private record UserState(Optional<UserFeedbackSnapshot> feedback, long feedbackTtlMs, Optional<UserScores> scores) {}

    @Override
    public Integer call() throws IOException {
        String prefix = serving.keyPrefix();
        String key = RedisKeys.userFeedback(prefix, userId);
        UserState state = serving.read(jedis -> new UserState(FeatureReader.userFeedback(jedis, prefix, userId),
                jedis.pttl(key), ServingReader.userScores(jedis, prefix, userId)));
        PrintWriter out = spec.commandLine().getOut();
        if (state.feedback().isEmpty() && state.scores().isEmpty()) {
            spec.commandLine().getErr().println("ctr query user: no feedback state or scores for " + userId + " at " + key
                    + " (user never seen, expired, or another --key-prefix)");
            out.flush();
            return 1;
        }
        if (json) {
            Map<String, Object> doc = state.feedback().map(f -> asJson(key, state.feedbackTtlMs(), f))
                    .orElseGet(() -> {
                        Map<String, Object> none = new LinkedHashMap<>();
                        none.put("user_id", userId);
                        none.put("key", null);
                        return none;
                    });
            doc.put("latest_scores", state.scores().map(QueryUserCommand::asJson).orElse(null));
            out.println(new ObjectMapper().writeValueAsString(doc));
        } else {
            if (state.feedback().isPresent()) {
                print(out, key, state.feedbackTtlMs(), state.feedback().get());
            } else {
                out.printf("user %s  (no feedback state at %s)%n", userId, key);
            }
            state.scores().ifPresentOrElse(s -> print(out, s), () -> out.println("latest scores: none"));
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> asJson(UserScores s) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("key", s.key());
        json.put("auction_id", s.auctionId());
        json.put("model_name", s.modelName());
        json.put("model_version", s.modelVersion());
        json.put("event_time_ms", s.eventTimeMs());
        json.put("scored_at_ms", s.scoredAtMs());
        List<Map<String, Object>> ads = new ArrayList<>();
        for (RankedAd ad : s.ads()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("ad_id", ad.adId());
            a.put("pctr", ad.pctr());
            a.put("ecpm", ad.ecpm());
            ads.add(a);
        }
        json.put("ads", ads);
        return json;
    }

    private static void print(PrintWriter out, UserScores s) {
        out.printf("latest scores: auction %s at %s, model %s v%d, scored %s ago (%s)%n", s.auctionId(),
                Instant.ofEpochMilli(s.eventTimeMs()), s.modelName(), s.modelVersion(),
                QueryText.age(System.currentTimeMillis() - s.scoredAtMs()), s.key());
        for (RankedAd ad : s.ads()) {
            out.printf("  %-24s pCTR %.6f  eCPM %.2f%n", ad.adId(), ad.pctr(), ad.ecpm());
        }
    }

    private Map<String, Object> asJson(String key, long ttlMs, UserFeedbackSnapshot s) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("user_id", userId);
        json.put("key", key);
        json.put("ttl_ms", ttlMs < 0 ? null : ttlMs);
        json.put("as_of_ms", s.getAsOfMs());
        List<Map<String, Object>> clicks = new ArrayList<>();
        for (AlignedClick c : s.getClicks()) {
            Map<String, Object> click = new LinkedHashMap<>(exposure(c.getClick()));
            click.put("before", exposures(c.getBefore()));
            click.put("after", exposures(c.getAfter()));
            clicks.add(click);
        }
        json.put("clicks", clicks);
        json.put("recent_unclicks", exposures(s.getRecentUnclicks()));
        if (s.getRecentExposures() != null) {
            json.put("recent_exposures", s.getRecentExposures().stream().map(e -> {
                Map<String, Object> exposure = new LinkedHashMap<>();
                exposure.put("ad_id", e.getAdId());
                exposure.put("category_id", e.getCategoryId());
                exposure.put("time_ms", e.getTimeMs());
                exposure.put("click_time_ms", e.getClickTimeMs());
                return exposure;
            }).toList());
        }
        return json;
    }

    private static List<Map<String, Object>> exposures(List<Exposure> exposures) {
        return exposures.stream().map(QueryUserCommand::exposure).toList();
    }

    private static Map<String, Object> exposure(Exposure e) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("ad_id", e.getAdId());
        json.put("category_id", e.getCategoryId());
        json.put("time_ms", e.getTimeMs());
        return json;
    }

    private void print(PrintWriter out, String key, long ttlMs, UserFeedbackSnapshot s) {
        out.printf("user %s  (%s, expires in %s)%n", userId, key, QueryText.duration(ttlMs));
        out.printf("as of %s (%d)%n", Instant.ofEpochMilli(s.getAsOfMs()), s.getAsOfMs());
        out.printf("clicks: %d, oldest first; unclicked exposures before (most recent first) and after (oldest first)%n",
                s.getClicks().size());
        int n = 1;
        for (AlignedClick c : s.getClicks()) {
            out.printf("%3d. click  %s%n", n++, text(c.getClick()));
            out.printf("     before %s%n", text(c.getBefore()));
            out.printf("     after  %s%n", text(c.getAfter()));
        }
        out.printf("recent unclicks (most recent first): %s%n", text(s.getRecentUnclicks()));
        List<RecentExposure> recent = s.getRecentExposures();
        if (recent != null) {
            long clicked = recent.stream().filter(e -> e.getClickTimeMs() != null).count();
            out.printf("exposures the fatigue features count (at most N, back to an hour before the newest): %d, %d of them clicked%s%n",
                    recent.size(), clicked, recent.isEmpty() ? "" : "; most recent first:");
            for (RecentExposure e : recent.subList(0, Math.min(SHOWN_RECENT_EXPOSURES, recent.size()))) {
                out.printf("     %s at %s%s%n", e.getAdId() + " (" + (e.getCategoryId().isEmpty() ? "no category"
                        : e.getCategoryId()) + ")", Instant.ofEpochMilli(e.getTimeMs()),
                        e.getClickTimeMs() == null ? "" : ", clicked at " + Instant.ofEpochMilli(e.getClickTimeMs()));
            }
            if (recent.size() > SHOWN_RECENT_EXPOSURES) {
                out.printf("     ... %d more (--json lists all)%n", recent.size() - SHOWN_RECENT_EXPOSURES);
            }
        }
    }

    private static final int SHOWN_RECENT_EXPOSURES = 10;

    private static String text(List<Exposure> exposures) {
        if (exposures.isEmpty()) {
            return "-";
        }
        List<String> parts = new ArrayList<>();
        exposures.forEach(e -> parts.add(text(e)));
        return String.join(", ", parts);
    }

    private static String text(Exposure e) {
        return e.getAdId() + " (" + (e.getCategoryId().isEmpty() ? "no category" : e.getCategoryId()) + ") at "
                + Instant.ofEpochMilli(e.getTimeMs());
    }
}
