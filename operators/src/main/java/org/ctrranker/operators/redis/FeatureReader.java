package org.ctrranker.operators.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.features.UserFeedbackFunction;
import redis.clients.jedis.Jedis;

/**
 * Reads what the feature stages publish (layout in operators/REDIS-KEYS.md), for serving-side code and
 * tools such as {@code bin/ctr query}.
 */
public final class FeatureReader {

    /** The hash field holding the Avro snapshot (UserFeedbackFunction.FIELD_SNAPSHOT). */
    private static final byte[] SNAPSHOT_FIELD = "snapshot".getBytes(StandardCharsets.UTF_8);

    private FeatureReader() {}

    /** The user's mirrored aligned state, or empty when the user has none (never seen, or expired). */
    public static Optional<UserFeedbackSnapshot> userFeedback(Jedis jedis, String prefix, String userId) throws IOException {
        byte[] bytes = jedis.hget(RedisKeys.userFeedback(prefix, userId).getBytes(StandardCharsets.UTF_8),
                SNAPSHOT_FIELD);
        return bytes == null ? Optional.empty() : Optional.of(UserFeedbackFunction.decode(bytes));
    }

    /** The scenario's published market statistics as field -> text, empty when none. */
    public static Map<String, String> marketStatistics(Jedis jedis, String prefix, String scenario) {
        return new TreeMap<>(jedis.hgetAll(RedisKeys.market(prefix, scenario)));
    }
}
