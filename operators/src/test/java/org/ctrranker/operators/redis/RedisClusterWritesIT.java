package org.ctrranker.operators.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.localenv.LocalRedisCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisClusterCRC16;

/** The versioned writes and the readers against a real three-primary Redis Cluster of redis-server processes. */
class RedisClusterWritesIT {

    private static final int PRIMARIES = 3;

    @TempDir
    static Path dir;
    private static LocalRedisCluster cluster;
    private static RedisEndpoint endpoint;

    @BeforeAll
    static void start() {
        cluster = LocalRedisCluster.start(dir, PRIMARIES);
        endpoint = RedisEndpoint.parse(cluster.url());
    }

    @BeforeEach
    void empty() {
        for (int node = 0; node < PRIMARIES; node++) {
            cluster.command(node, "FLUSHALL");
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void eachKeyLandsOnItsPrimaryAndAReplayChangesNothing() throws Exception {
        int keys = 3_000;
        List<VersionedWrite> writes = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            writes.add(VersionedWrite.ofText("spread:rank:{a" + i + "}", 1_000 + i, 60_000,
                    Map.of("ads", "ad-" + i, "model_version", "3")));
        }
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 1_000, 0, null);
             UnifiedJedis client = endpoint.client()) {
            for (VersionedWrite w : writes) {
                writer.write(w);
            }
            writer.flush();
            assertThat(writer.appliedCount()).isEqualTo(keys);
            Map<String, Map<String, String>> first = new HashMap<>();
            for (VersionedWrite w : writes) {
                Map<String, String> stored = client.hgetAll(w.key);
                assertThat(stored).as(w.key).containsEntry("ads", new String(w.field("ads")))
                        .containsEntry(VersionedWrite.VERSION_FIELD, Long.toString(w.version));
                first.put(w.key, stored);
            }
            long total = 0;
            for (int node = 0; node < PRIMARIES; node++) {
                long held = Long.parseLong(cluster.command(node, "DBSIZE"));
                assertThat(held).as("keys on primary %d", node).isGreaterThan(keys / PRIMARIES / 2);
                total += held;
            }
            assertThat(total).as("each key on one primary only").isEqualTo(keys);

            // a replay after failover, and an older state of one key: nothing changes
            for (VersionedWrite w : writes) {
                writer.write(w);
            }
            writer.write(VersionedWrite.ofText("spread:rank:{a7}", 5, 60_000, Map.of("ads", "older")));
            writer.flush();
            assertThat(writer.appliedCount()).isEqualTo(keys);
            assertThat(writer.staleCount()).isEqualTo(keys + 1);
            for (VersionedWrite w : writes) {
                assertThat(client.hgetAll(w.key)).as(w.key).isEqualTo(first.get(w.key));
            }
        }
    }

    @Test
    void aSlotThatMovedAfterTheSlotMapWasLoadedIsWrittenWhereItIsNow() throws Exception {
        String moving = keyOwnedBy(0, "moved:rank:{m");
        int slot = JedisClusterCRC16.getSlot(moving);
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 1_000, 0, null);
             UnifiedJedis client = endpoint.client()) {
            writer.write(VersionedWrite.ofText(keyOwnedBy(0, "moved:rank:{first"), 1, 60_000, Map.of("n", "1")));
            writer.flush(); // the writer now holds the slot map

            List<String> ids = cluster.nodeIds();
            for (int node : new int[] {1, 0, 2}) {
                cluster.command(node, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", ids.get(1));
            }
            writer.write(VersionedWrite.ofText(moving, 2, 60_000, Map.of("n", "2")));
            writer.flush();

            assertThat(writer.appliedCount()).isEqualTo(2);
            assertThat(cluster.command(1, "EXISTS", moving)).as("on the slot's new primary").isEqualTo("1");
            assertThat(client.hget(moving, "n")).isEqualTo("2");
        }
    }

    /**
     * While a slot migrates, its primary serves only the keys it still holds, and the primary it is going to takes the
     * others after ASKING: the writes go where the slot's keys are without waiting for the move, and the move then
     * completes (a key the importing primary had first would make MIGRATE of the old primary's copy fail).
     */
    @Test
    void aMigratingSlotsKeysAreWrittenWhereTheyAreWithoutWaitingForTheMove() throws Exception {
        String tag = keyOwnedBy(0, "migrating:rank:{g");
        tag = tag.substring(tag.indexOf('{'));
        String held = "migrating:rank:" + tag;
        String fresh = "migrating:user:" + tag;
        int slot = JedisClusterCRC16.getSlot(held);
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 1_000, 0, null);
             UnifiedJedis client = endpoint.client()) {
            writer.write(VersionedWrite.ofText(held, 1, 60_000, Map.of("n", "1")));
            writer.flush();

            cluster.beginSlotMove(slot, 0, 1);
            writer.write(VersionedWrite.ofText(held, 2, 60_000, Map.of("n", "2")));
            writer.write(VersionedWrite.ofText(fresh, 1, 60_000, Map.of("n", "1")));
            writer.flush();
            writer.write(VersionedWrite.ofText(fresh, 2, 60_000, Map.of("n", "2")));
            writer.flush();

            // a key the old primary held and that is written again may end up on the importer: the script's DEL of
            // the older version leaves it missing there, so its HSET is refused and the write goes to the importer
            String counted = Integer.toString(slot);
            assertThat(cluster.command(1, "CLUSTER", "COUNTKEYSINSLOT", counted)).as("the new key, on the importer")
                    .isIn("1", "2");
            assertThat(Long.parseLong(cluster.command(0, "CLUSTER", "COUNTKEYSINSLOT", counted))
                    + Long.parseLong(cluster.command(1, "CLUSTER", "COUNTKEYSINSLOT", counted)))
                    .as("each key on one primary").isEqualTo(2);
            assertThat(writer.appliedCount()).isEqualTo(4);
            assertThat(client.hget(held, "n")).isEqualTo("2");
            assertThat(client.hget(fresh, "n")).as("read through ASK").isEqualTo("2");

            cluster.endSlotMove(slot, 0, 1);
            assertThat(cluster.command(1, "CLUSTER", "COUNTKEYSINSLOT", counted)).as("both keys moved over")
                    .isEqualTo("2");
            assertThat(cluster.command(0, "CLUSTER", "COUNTKEYSINSLOT", counted)).isEqualTo("0");
            assertThat(client.hget(held, "n")).isEqualTo("2");
            assertThat(client.hget(fresh, "n")).isEqualTo("2");
        }
    }

    @Test
    void theReadersFindWhatTheWriterWroteOnAnyPrimary() throws Exception {
        List<String> auctions = new ArrayList<>();
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 1_000, 0, null);
             UnifiedJedis client = endpoint.client()) {
            for (int node = 0; node < PRIMARIES; node++) {
                String key = keyOwnedBy(node, "read:rank:{");
                String auction = key.substring(key.indexOf('{') + 1, key.indexOf('}'));
                auctions.add(auction);
                writer.write(VersionedWrite.ofText(RedisKeys.ranking("read", auction), 10, 60_000, Map.of(
                        "ads", "ad-1,ad-2", "pctr", "0.5,0.25", "ecpm", "500,250", "model_name", "ctr",
                        "model_version", "4", "event_time_ms", "10", "scored_at_ms", "11")));
            }
            writer.flush();
            for (String auction : auctions) {
                assertThat(org.ctrranker.operators.scoring.ServingReader.ranking(client, "read", auction))
                        .as(auction).hasValueSatisfying(r -> {
                            assertThat(r.ads()).hasSize(2);
                            assertThat(r.modelVersion()).isEqualTo(4);
                            assertThat(r.ttlMs()).isPositive();
                        });
            }
        }
    }

    /** A key {@code <prefix><n>}} whose slot primary {@code node} holds. */
    private static String keyOwnedBy(int node, String prefix) {
        for (int n = 0; ; n++) {
            String key = prefix + n + "}";
            if (cluster.primaryOf(JedisClusterCRC16.getSlot(key)) == node) {
                return key;
            }
        }
    }
}
