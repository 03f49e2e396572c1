package org.ctrranker.operators.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import redis.clients.jedis.commands.JedisBinaryCommands;
import redis.clients.jedis.commands.JedisCommands;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** Test views of a key pattern in the shared redis-server (a connection or a client): its keys, their exact bytes, a clean slate. */
public final class RedisKeyspace {

    private RedisKeyspace() {}

    public static <J extends JedisCommands & JedisBinaryCommands> List<String> keys(J jedis, String pattern) {
        List<String> keys = new ArrayList<>();
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, new ScanParams().match(pattern).count(500));
            keys.addAll(page.getResult());
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return keys;
    }

    /** DUMP of every matching key: the exact serialized value, independent of its TTL. */
    public static <J extends JedisCommands & JedisBinaryCommands> Map<String, byte[]> dumpAll(J jedis, String pattern) {
        Map<String, byte[]> dumps = new TreeMap<>();
        for (String key : keys(jedis, pattern)) {
            dumps.put(key, jedis.dump(key.getBytes(StandardCharsets.UTF_8)));
        }
        return dumps;
    }

    /**
     * Every matching hash's fields and values (bytes kept one char per byte). What a replay must leave
     * unchanged: a large (hashtable-encoded) hash's DUMP bytes also depend on how far a lookup has advanced
     * Redis's incremental rehash of its table.
     */
    public static <J extends JedisCommands & JedisBinaryCommands> Map<String, Map<String, String>> hashesAll(J jedis,
            String pattern) {
        Map<String, Map<String, String>> hashes = new TreeMap<>();
        for (String key : keys(jedis, pattern)) {
            Map<String, String> fields = new TreeMap<>();
            jedis.hgetAll(key.getBytes(StandardCharsets.UTF_8)).forEach((field, value) -> fields.put(
                    new String(field, StandardCharsets.ISO_8859_1), new String(value, StandardCharsets.ISO_8859_1)));
            hashes.put(key, fields);
        }
        return hashes;
    }

    public static <J extends JedisCommands & JedisBinaryCommands> void deleteAll(J jedis, String pattern) {
        for (String key : keys(jedis, pattern)) {
            jedis.del(key);
        }
    }
}
