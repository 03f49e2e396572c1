package org.ctrranker.operators.features;

import java.util.Map;
import org.apache.flink.api.common.functions.MapFunction;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.VersionedWrite;

/**
 * The ads' counts for serving outside the job: each tick an ad changed in becomes a write of
 * {@code <prefix>:item:{<ad_id>}} (layout in operators/REDIS-KEYS.md), versioned by the tick's end, so the key holds
 * what the scorers take for an auction at that point in time and a replay writes the same.
 */
public final class ItemCountsMirror implements MapFunction<ItemTick, VersionedWrite> {

    private static final long serialVersionUID = 1L;

    public static final String ENABLED = "ctr.features.item.redis-mirror";
    public static final String REDIS_TTL_MS = "ctr.features.item.redis-ttl-ms";
    public static final String REDIS_KEY_PREFIX = "ctr.redis.key-prefix";
    public static final String FIELD_AS_OF = "as_of_ms";
    public static final String FIELD_IMPRESSIONS = "impressions";
    public static final String FIELD_CLICKS = "clicks";

    private final String keyPrefix;
    private final long ttlMs;

    public ItemCountsMirror(String keyPrefix, long ttlMs) {
        this.keyPrefix = keyPrefix;
        this.ttlMs = ItemStatisticsConfig.positive(REDIS_TTL_MS, ttlMs);
    }

    /** Whether the job mirrors the counts (false unless set to true); anything but true or false is refused. */
    public static boolean enabled(Map<String, String> settings) {
        String value = settings.getOrDefault(ENABLED, "false").trim();
        if (!value.equals("true") && !value.equals("false")) {
            throw new IllegalArgumentException(ENABLED + "=" + value + " must be true or false");
        }
        return value.equals("true");
    }

    /** The key prefix and the TTL (7 days unless set) from a settings map. */
    public static ItemCountsMirror fromSettings(Map<String, String> settings) {
        return new ItemCountsMirror(settings.getOrDefault(REDIS_KEY_PREFIX, "ctr"),
                ItemStatisticsConfig.number(settings, REDIS_TTL_MS, 604_800_000));
    }

    @Override
    public VersionedWrite map(ItemTick tick) {
        return VersionedWrite.ofText(RedisKeys.item(keyPrefix, tick.adId), tick.asOfMs, ttlMs, Map.of(
                FIELD_AS_OF, Long.toString(tick.asOfMs),
                FIELD_IMPRESSIONS, Long.toString(tick.impressions),
                FIELD_CLICKS, Long.toString(tick.clicks)));
    }
}
