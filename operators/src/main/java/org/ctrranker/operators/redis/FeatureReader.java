package org.ctrranker.operators.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.features.ItemCountsMirror;
import org.ctrranker.operators.features.UserFeedbackFunction;
import redis.clients.jedis.UnifiedJedis;

/**
 * Reads what the feature stages publish (layout in operators/REDIS-KEYS.md), for serving-side code and
 * tools such as {@code bin/ctr query}.
 */
public final class FeatureReader {

    /** The hash field holding the Avro snapshot (UserFeedbackFunction.FIELD_SNAPSHOT). */
    private static final byte[] SNAPSHOT_FIELD = "snapshot".getBytes(StandardCharsets.UTF_8);

    private FeatureReader() {}

    /** The user's mirrored aligned state, or empty when the user has none (never seen, or expired). */
    public static Optional<UserFeedbackSnapshot> userFeedback(UnifiedJedis jedis, String prefix, String userId) throws IOException {
        byte[] bytes = jedis.hget(RedisKeys.userFeedback(prefix, userId).getBytes(StandardCharsets.UTF_8),
                SNAPSHOT_FIELD);
        return bytes == null ? Optional.empty() : Optional.of(UserFeedbackFunction.decode(bytes));
    }

    /** The ad's mirrored counts at its newest tick, or empty when the ad has none (never counted, or expired). */
    public static Optional<ItemCounts> itemCounts(UnifiedJedis jedis, String prefix, String adId) {
        Map<String, String> fields = jedis.hgetAll(RedisKeys.item(prefix, adId));
        if (fields.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ItemCounts(Long.parseLong(fields.get(ItemCountsMirror.FIELD_AS_OF)),
                Long.parseLong(fields.get(ItemCountsMirror.FIELD_IMPRESSIONS)),
                Long.parseLong(fields.get(ItemCountsMirror.FIELD_CLICKS))));
    }

    /** The scenario's published market statistics as field -> text, empty when none. */
    public static Map<String, String> marketStatistics(UnifiedJedis jedis, String prefix, String scenario) {
        return new TreeMap<>(jedis.hgetAll(RedisKeys.market(prefix, scenario)));
    }
}
