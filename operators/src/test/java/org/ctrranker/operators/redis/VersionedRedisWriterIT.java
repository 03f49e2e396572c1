package org.ctrranker.operators.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.localenv.StackEndpoints;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/** The versioned, pipelined compare-and-set writes against a real redis-server. */
@ExtendWith(LocalStackExtension.class)
class VersionedRedisWriterIT {

    private static final String PREFIX = "writer-it";

    private final StackEndpoints stack;

    VersionedRedisWriterIT(StackEndpoints stack) {
        this.stack = stack;
    }

    @BeforeEach
    void clean() {
        try (Jedis jedis = RedisEndpoint.parse(stack.redisUrl()).connect()) {
            RedisKeyspace.deleteAll(jedis, PREFIX + ":*");
        }
    }

    @Test
    void aWriteNeverReplacesANewerOrEqualVersion() throws Exception {
        String key = PREFIX + ":user:{u1}:feedback";
        try (VersionedRedisWriter writer = writer(); Jedis jedis = connect()) {
            writer.write(write(key, 200, "newer"));
            writer.flush();
            byte[] afterNewer = jedis.dump(key.getBytes(StandardCharsets.UTF_8));

            writer.write(write(key, 100, "older"));
            writer.flush();
            writer.write(write(key, 200, "same version, other bytes"));
            writer.flush();

            assertThat(jedis.hget(key, "payload")).isEqualTo("newer");
            assertThat(jedis.hget(key, VersionedWrite.VERSION_FIELD)).isEqualTo("200");
            assertThat(jedis.dump(key.getBytes(StandardCharsets.UTF_8))).isEqualTo(afterNewer);
            assertThat(writer.appliedCount()).isEqualTo(1);
            assertThat(writer.staleCount()).isEqualTo(2);

            writer.write(write(key, 300, "newest"));
            writer.flush();
            assertThat(jedis.hget(key, "payload")).isEqualTo("newest");
            long ttl = jedis.pttl(key);
            assertThat(ttl).isPositive().isLessThanOrEqualTo(60_000);
        }
    }

    @Test
    void replayingTheSameWritesLeavesEveryKeyByteIdentical() throws Exception {
        List<VersionedWrite> writes = new ArrayList<>();
        for (int user = 0; user < 50; user++) {
            for (int version = 1; version <= 5; version++) {
                writes.add(write(PREFIX + ":user:{r" + user + "}:feedback", version * 10L, "state " + user + "@" + version));
            }
        }
        try (VersionedRedisWriter writer = writer(); Jedis jedis = connect()) {
            for (VersionedWrite w : writes) {
                writer.write(w);
            }
            writer.flush();
            Map<String, byte[]> first = RedisKeyspace.dumpAll(jedis, PREFIX + ":*");
            assertThat(first).hasSize(50);

            // a replay after failover: the same writes again, in another batching
            for (int i = writes.size() - 1; i >= 0; i--) {
                writer.write(writes.get(i));
                if (i % 7 == 0) {
                    writer.flush();
                }
            }
            writer.flush();
            Map<String, byte[]> second = RedisKeyspace.dumpAll(jedis, PREFIX + ":*");
            assertThat(second.keySet()).isEqualTo(first.keySet());
            for (String key : first.keySet()) {
                assertThat(second.get(key)).as(key).isEqualTo(first.get(key));
            }
            assertThat(jedis.hget(PREFIX + ":user:{r7}:feedback", "payload")).isEqualTo("state 7@5");
        }
    }

    @Test
    void oneFlushOfManyKeysDecidesEachKeyOnItsOwnAcrossScriptCalls() throws Exception {
        int keys = 2 * VersionedRedisWriter.KEYS_PER_CALL + 50;
        try (VersionedRedisWriter writer = new VersionedRedisWriter(RedisEndpoint.parse(stack.redisUrl()), 10_000, null);
             Jedis jedis = connect()) {
            for (int i = 0; i < keys; i += 3) {
                // every third key holds a newer version already, with a field the new layouts lack
                jedis.hset(PREFIX + ":rank:{m" + i + "}", Map.of(VersionedWrite.VERSION_FIELD, "500", "old", "kept"));
            }
            for (int i = 1; i < keys; i += 3) {
                jedis.hset(PREFIX + ":rank:{m" + i + "}", Map.of(VersionedWrite.VERSION_FIELD, "5", "old", "dropped"));
            }
            for (int i = 0; i < keys; i++) {
                // field counts differ from key to key, so each key's arguments must be sliced right
                Map<String, String> fields = new java.util.LinkedHashMap<>();
                for (int f = 0; f <= i % 4; f++) {
                    fields.put("f" + f, i + "/" + f);
                }
                writer.write(VersionedWrite.ofText(PREFIX + ":rank:{m" + i + "}", 100, 60_000, fields));
            }
            writer.flush();

            assertThat(writer.staleCount()).isEqualTo((keys + 2) / 3);
            assertThat(writer.appliedCount()).isEqualTo(keys - (keys + 2) / 3);
            for (int i = 0; i < keys; i++) {
                Map<String, String> stored = jedis.hgetAll(PREFIX + ":rank:{m" + i + "}");
                if (i % 3 == 0) {
                    assertThat(stored).as("key %d", i).containsEntry("old", "kept").containsEntry(VersionedWrite.VERSION_FIELD, "500");
                } else {
                    assertThat(stored).as("key %d", i).hasSize(2 + i % 4).containsEntry(VersionedWrite.VERSION_FIELD, "100")
                            .containsEntry("f" + (i % 4), i + "/" + (i % 4)).doesNotContainKey("old");
                    assertThat(jedis.pttl(PREFIX + ":rank:{m" + i + "}")).isPositive();
                }
            }
        }
    }

    @Test
    void onlyTheNewestBufferedVersionOfAKeyIsSent() throws Exception {
        String key = PREFIX + ":market:{slot#1}";
        try (VersionedRedisWriter writer = writer(); Jedis jedis = connect()) {
            writer.write(write(key, 5, "five"));
            writer.write(write(key, 9, "nine"));
            writer.write(write(key, 7, "seven"));
            writer.flush();
            assertThat(writer.appliedCount()).isEqualTo(1);
            assertThat(writer.staleCount()).isZero();
            assertThat(jedis.hget(key, "payload")).isEqualTo("nine");
        }
    }

    @Test
    void equalVersionsWithATieBreakFieldEndTheSameInEitherOrderSentOrBuffered() throws Exception {
        String sent = PREFIX + ":user:{u2}:scores";
        String buffered = PREFIX + ":user:{u3}:scores";
        List<List<VersionedWrite>> orders = List.of(
                List.of(scores(sent, "auction-b"), scores(sent, "auction-a"), scores(sent, "auction-10")),
                List.of(scores(sent, "auction-10"), scores(sent, "auction-a"), scores(sent, "auction-b")));
        List<Map<String, String>> ends = new ArrayList<>();
        try (VersionedRedisWriter writer = writer(); Jedis jedis = connect()) {
            for (List<VersionedWrite> order : orders) {
                jedis.del(sent, buffered);
                for (VersionedWrite w : order) {
                    writer.write(w); // one flush per write: Redis decides
                    writer.flush();
                }
                for (VersionedWrite w : order) {
                    VersionedWrite other = scores(buffered, new String(w.field("auction_id"), StandardCharsets.UTF_8));
                    writer.write(other); // all in one buffer: the writer decides as Redis would
                }
                writer.flush();
                ends.add(jedis.hgetAll(sent));
                assertThat(jedis.hgetAll(buffered)).isEqualTo(jedis.hgetAll(sent));
            }
            assertThat(ends.get(0)).containsEntry("auction_id", "auction-b").containsEntry("version", "500")
                    .isEqualTo(ends.get(1));
            writer.write(scores(sent, "auction-b")); // the same auction replayed: nothing changes
            writer.flush();
            assertThat(writer.staleCount()).isPositive();
            assertThat(jedis.hgetAll(sent)).isEqualTo(ends.get(1));
        }
    }

    private static VersionedWrite scores(String key, String auctionId) {
        return VersionedWrite.ofText(key, 500, 60_000, Map.of("auction_id", auctionId, "ad:x", auctionId.length() + ",1"))
                .tieBreakOn("auction_id");
    }

    @Test
    void withoutALingerAWriteReachesRedisWithoutAFlushAndWritesMadeMeanwhileFollow() throws Exception {
        try (VersionedRedisWriter writer = new VersionedRedisWriter(RedisEndpoint.parse(stack.redisUrl()), 1_000, 0, null);
             Jedis jedis = connect()) {
            String first = PREFIX + ":rank:{eager0}";
            writer.write(write(first, 1, "first"));
            long deadline = System.currentTimeMillis() + 10_000;
            while (!jedis.exists(first) && System.currentTimeMillis() < deadline) {
                Thread.sleep(1);
            }
            assertThat(jedis.hget(first, "payload")).as("sent by the writer's own thread").isEqualTo("first");
            for (int i = 1; i <= 500; i++) {
                writer.write(write(PREFIX + ":rank:{eager" + i + "}", 1, "n" + i));
            }
            while (writer.appliedCount() < 501 && System.currentTimeMillis() < deadline) {
                Thread.sleep(1);
            }
            assertThat(writer.appliedCount()).isEqualTo(501);
            assertThat(jedis.hget(PREFIX + ":rank:{eager500}", "payload")).isEqualTo("n500");
        }
    }

    @Test
    void aLingeringWriteWaitsForItsLingerOrAFlush() throws Exception {
        String key = PREFIX + ":rank:{linger}";
        try (VersionedRedisWriter writer = new VersionedRedisWriter(RedisEndpoint.parse(stack.redisUrl()), 1_000, 60_000, null);
             Jedis jedis = connect()) {
            writer.write(write(key, 1, "waits"));
            Thread.sleep(300);
            assertThat(jedis.exists(key)).as("still lingering").isFalse();
            writer.flush();
            assertThat(jedis.hget(key, "payload")).isEqualTo("waits");
        }
    }

    @Test
    void aFailedSendFailsTheNextFlushNamingTheServer() throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        RedisEndpoint nowhere = RedisEndpoint.parse("redis://127.0.0.1:" + closedPort);
        try (VersionedRedisWriter writer = new VersionedRedisWriter(nowhere, 10, 0, null)) {
            writer.write(write(PREFIX + ":rank:{lost}", 1, "x"));
            assertThatThrownBy(writer::flush).isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("127.0.0.1:" + closedPort);
            assertThatThrownBy(() -> writer.write(write(PREFIX + ":rank:{lost2}", 1, "y")))
                    .isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void recoversWhenTheServerForgotTheScript() throws Exception {
        String key = PREFIX + ":user:{script}:feedback";
        try (VersionedRedisWriter writer = writer(); Jedis jedis = connect()) {
            writer.write(write(key, 1, "a"));
            writer.flush();
            jedis.scriptFlush();
            writer.write(write(key, 2, "b"));
            writer.flush();
            assertThat(jedis.hget(key, "payload")).isEqualTo("b");
        }
    }

    @Test
    void authenticatesWithTheUserAndPasswordOfTheUrl() throws Exception {
        String user = "writer-it-user";
        try (Jedis admin = connect()) {
            admin.sendCommand(redis.clients.jedis.Protocol.Command.ACL, "SETUSER", user, "on", ">s3cret:pw", "~" + PREFIX + ":*", "+@all");
            try {
                String url = "redis://" + user + ":s3cret%3Apw@" + stack.redisHost() + ":" + stack.redisPort();
                try (VersionedRedisWriter writer = new VersionedRedisWriter(RedisEndpoint.parse(url), 100, null)) {
                    writer.write(write(PREFIX + ":user:{acl}:feedback", 1, "authenticated"));
                    writer.flush();
                }
                assertThat(admin.hget(PREFIX + ":user:{acl}:feedback", "payload")).isEqualTo("authenticated");
            } finally {
                admin.sendCommand(redis.clients.jedis.Protocol.Command.ACL, "DELUSER", user);
            }
        }
    }

    private VersionedRedisWriter writer() {
        return new VersionedRedisWriter(RedisEndpoint.parse(stack.redisUrl()), 16, null);
    }

    private Jedis connect() {
        return RedisEndpoint.parse(stack.redisUrl()).connect();
    }

    private static VersionedWrite write(String key, long version, String payload) {
        return VersionedWrite.ofText(key, version, 60_000, Map.of("payload", payload, "kind", "test"));
    }
}
