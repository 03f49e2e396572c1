package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.operators.redis.FeatureReader;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

/** {@code bin/ctr query user ID}: the user's TEM4CTR aligned feedback state as the job mirrored it to Redis. */
@Command(name = "user", mixinStandardHelpOptions = true,
        description = {"Prints a user's aligned click/unclick state from Redis (<prefix>:user:{ID}:feedback):",
                "the last L clicks, oldest first, each with its nearest unclicked exposures before and after,",
                "and the most recent unclicks. Exit status 1 when Redis holds no state for the user.",
                "The Redis password may come from the environment variable CTR_REDIS_PASSWORD."})
public final class QueryUserCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    RedisOptions redis;

    @Parameters(index = "0", paramLabel = "USER_ID", description = "The user id, as in the events.")
    String userId;

    @Option(names = "--json", description = "One JSON object instead of the readable layout.")
    boolean json;

    @Option(names = "--key-prefix", defaultValue = "ctr", paramLabel = "PREFIX",
            description = "The job's ctr.redis.key-prefix (default: ${DEFAULT-VALUE}).")
    String keyPrefix;

    @Override
    public Integer call() throws IOException {
        RedisEndpoint endpoint;
        try {
            endpoint = RedisEndpoint.parse(redis.url()).withPasswordIfAbsent(System.getenv(ConfiguredJobIO.REDIS_PASSWORD_ENV));
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
        String key = RedisKeys.userFeedback(keyPrefix, userId);
        Optional<UserFeedbackSnapshot> snapshot;
        long ttlMs;
        try (Jedis jedis = endpoint.connect()) {
            snapshot = FeatureReader.userFeedback(jedis, keyPrefix, userId);
            ttlMs = jedis.pttl(key);
        } catch (JedisException e) {
            throw new CommandFailure("cannot read " + endpoint + ": " + e.getMessage()
                    + " (check --redis, and CTR_REDIS_PASSWORD when Redis needs a password)");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (snapshot.isEmpty()) {
            spec.commandLine().getErr().println("ctr query user: no feedback state for " + userId + " at " + key
                    + " (user never seen, expired, or another --key-prefix)");
            out.flush();
            return 1;
        }
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(asJson(key, ttlMs, snapshot.get())));
        } else {
            print(out, key, ttlMs, snapshot.get());
        }
        out.flush();
        return 0;
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
        out.printf("user %s  (%s, expires in %s)%n", userId, key, ttlMs < 0 ? "never" : duration(ttlMs));
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
    }

    private static String duration(long ms) {
        Duration d = Duration.ofMillis(ms);
        return d.toDays() + "d " + d.toHoursPart() + "h " + d.toMinutesPart() + "m";
    }

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
