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
 * What a job wrote to Redis under its key prefix, for comparing two runs over the same input (a rerun, or a
 * run with failures against one without). Every key must match field for field: the feature keys, and the
 * online stages' too, since the scorer decides its inputs in event time with batch-invariant model calls and
 * the trainer is deterministic. The only exception is {@link #PROCESSING_TIME_FIELDS}, stamped with the wall
 * clock when written.
 */
public final class RedisContents {

    /** Wall-clock stamps: scoring time of rankings and user scores, publication time of model versions. */
    public static final java.util.Set<String> PROCESSING_TIME_FIELDS =
            java.util.Set.of("scored_at_ms", "published_processing_time_ms");

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

    /** Every key with every field but the {@link #PROCESSING_TIME_FIELDS}. */
    public static Map<String, Map<String, String>> replayInvariant(Map<String, Map<String, String>> hashes) {
        Map<String, Map<String, String>> invariant = new TreeMap<>();
        hashes.forEach((key, fields) -> {
            Map<String, String> kept = new TreeMap<>(fields);
            kept.keySet().removeAll(PROCESSING_TIME_FIELDS);
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
