package org.ctrranker.jobs.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * What a job wrote to Redis under its key prefix, for comparing two runs over the same input. The feature keys
 * must match byte for byte. The online stages' keys are not reproducible yet: scores depend on which feedback
 * snapshot and which model version reached a scorer first, the trainer's model on how its parallel inputs
 * interleaved, and both carry processing times; so of rankings and user scores only the names and event-time
 * versions are compared (every auction ranked, for the same event time), and model keys by name.
 */
public final class RedisContents {

    private RedisContents() {}

    /** DUMP of every key under {@code prefix:}, by key without the prefix. */
    public static Map<String, byte[]> dumps(Jedis jedis, String prefix) {
        Map<String, byte[]> dumps = new TreeMap<>();
        forEachKey(jedis, prefix, key -> dumps.put(key.substring(prefix.length() + 1),
                jedis.dump(key.getBytes(StandardCharsets.UTF_8))));
        return dumps;
    }

    /** Every hash under {@code prefix:}, by key without the prefix, fields as Base64. */
    public static Map<String, Map<String, String>> hashes(Jedis jedis, String prefix) {
        Map<String, Map<String, String>> state = new TreeMap<>();
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, new ScanParams().match(prefix + ":*").count(1_000));
            Map<String, Response<Map<byte[], byte[]>>> replies = new LinkedHashMap<>();
            try (Pipeline pipeline = jedis.pipelined()) {
                page.getResult().forEach(key -> replies.put(key, pipeline.hgetAll(key.getBytes(StandardCharsets.UTF_8))));
                pipeline.sync();
            }
            replies.forEach((key, hash) -> {
                Map<String, String> fields = new TreeMap<>();
                hash.get().forEach((field, value) -> fields.put(
                        new String(field, StandardCharsets.UTF_8), Base64.getEncoder().encodeToString(value)));
                state.put(key.substring(prefix.length() + 1), fields);
            });
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return state;
    }

    /** True for the feature stages' keys, which a rerun must reproduce byte for byte. */
    public static boolean isFeatureKey(String keyWithoutPrefix) {
        return keyWithoutPrefix.startsWith("market:") || keyWithoutPrefix.endsWith(":feedback");
    }

    /** Feature keys whole; of rankings and user scores only the event-time fields; model keys by name. */
    public static Map<String, Map<String, String>> replayInvariant(Map<String, Map<String, String>> hashes) {
        Map<String, Map<String, String>> invariant = new TreeMap<>();
        hashes.forEach((key, fields) -> {
            Map<String, String> kept = new TreeMap<>(fields);
            if (key.startsWith("model:")) {
                kept.clear();
            } else if (!isFeatureKey(key)) {
                kept.keySet().retainAll(java.util.Set.of("version", "event_time_ms"));
            }
            invariant.put(key, kept);
        });
        return invariant;
    }

    /** Same keys, and each key's replay-invariant fields equal, reported key by key. */
    public static void assertSameReplayInvariant(Map<String, Map<String, String>> expected,
            Map<String, Map<String, String>> actual) {
        Map<String, Map<String, String>> a = replayInvariant(expected);
        Map<String, Map<String, String>> b = replayInvariant(actual);
        org.assertj.core.api.Assertions.assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((key, fields) -> org.assertj.core.api.Assertions.assertThat(b.get(key)).as(key).isEqualTo(fields));
    }

    private static void forEachKey(Jedis jedis, String prefix, java.util.function.Consumer<String> action) {
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, new ScanParams().match(prefix + ":*").count(1_000));
            page.getResult().forEach(action);
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }
}
