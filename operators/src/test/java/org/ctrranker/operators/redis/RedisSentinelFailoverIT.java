package org.ctrranker.operators.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.ctrranker.localenv.LocalRedisSentinel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.UnifiedJedis;

/**
 * The versioned writes and the readers against a real primary, replica and Sentinel (redis-server processes): writes
 * follow the Sentinel's promotion of the replica when the primary is gone, losing nothing the replica had.
 */
class RedisSentinelFailoverIT {

    @TempDir
    static Path dir;
    private static LocalRedisSentinel servers;
    private static RedisEndpoint endpoint;

    @BeforeAll
    static void start() {
        servers = LocalRedisSentinel.start(dir, "data-nodes-secret");
        endpoint = RedisEndpoint.parse(servers.url());
    }

    @AfterAll
    static void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    @Test
    void writesGoOnOnThePromotedReplicaWhenThePrimaryIsGone() throws Exception {
        int keys = 500;
        int oldPrimary = servers.primaryPort();
        int replica = servers.otherPort(oldPrimary);
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 1_000, 0, null);
             UnifiedJedis client = endpoint.client()) {
            for (int i = 0; i < keys; i++) {
                writer.write(VersionedWrite.ofText("sentinel:rank:{a" + i + "}", 1, 60_000, Map.of("n", "1")));
            }
            writer.flush();
            assertThat(writer.appliedCount()).isEqualTo(keys);
            assertThat(servers.command(oldPrimary, "WAIT", "1", "5000")).as("replicas that have the writes")
                    .isEqualTo("1");

            servers.stop(oldPrimary);
            long start = System.nanoTime();
            // the first half again, newer, and as many new keys: the writer rides out the failover
            for (int i = 0; i < 2 * keys; i++) {
                writer.write(VersionedWrite.ofText("sentinel:rank:{a" + i + "}", 2, 60_000, Map.of("n", "2")));
            }
            writer.flush();
            long tookMs = (System.nanoTime() - start) / 1_000_000;

            assertThat(tookMs).as("the write waited for the promotion").isLessThan(TopologyRetry.SETTLE_MS);
            assertThat(servers.primaryPort()).as("the Sentinel's primary now").isEqualTo(replica);
            assertThat(writer.appliedCount()).isEqualTo(3L * keys);
            assertThat(servers.command(replica, "DBSIZE")).isEqualTo(Integer.toString(2 * keys));
            for (int i = 0; i < 2 * keys; i++) {
                assertThat(client.hget("sentinel:rank:{a" + i + "}", "n")).as("key %d read through the Sentinel", i)
                        .isEqualTo("2");
            }
        }
    }

    @Test
    void writesWaitUntilTheReplicaHasThemAndCountWhatItDidNotAcknowledgeInTime(@TempDir Path own) throws Exception {
        try (LocalRedisSentinel set = LocalRedisSentinel.start(own, "wait-secret")) {
            RedisEndpoint waiting = RedisEndpoint.parse(set.url()).withReplicaAcks(1, 200);
            int replica = set.otherPort(set.primaryPort());
            try (VersionedRedisWriter writer = new VersionedRedisWriter(waiting, 1_000, 0, null)) {
                for (int i = 0; i < 200; i++) {
                    writer.write(VersionedWrite.ofText("wait:rank:{a" + i + "}", 1, 60_000, Map.of("n", "1")));
                }
                writer.flush();
                assertThat(writer.unreplicatedCount()).isZero();
                assertThat(set.command(replica, "DBSIZE")).as("on the replica when the flush returned").isEqualTo("200");

                // the replica busy for 3 s: the writes wait 200 ms for it, then go on, counted
                Thread busy = new Thread(() -> set.command(replica, "DEBUG", "SLEEP", "3"));
                busy.start();
                Thread.sleep(500);
                for (int i = 0; i < 100; i++) {
                    writer.write(VersionedWrite.ofText("wait:rank:{b" + i + "}", 1, 60_000, Map.of("n", "1")));
                }
                writer.flush();
                assertThat(writer.unreplicatedCount()).isEqualTo(100);
                assertThat(writer.appliedCount()).isEqualTo(300);
                busy.join();
            }
        }
    }

    @Test
    void aPrimaryNameNoSentinelMonitorsIsNamedInTheError() {
        RedisEndpoint unknown = RedisEndpoint.parse(servers.url().replace("#" + LocalRedisSentinel.PRIMARY_NAME,
                "#no-such-primary"));
        assertThatThrownBy(unknown::connect).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no Redis Sentinel named the primary 'no-such-primary'")
                .hasMessageContaining("monitors no primary named")
                .hasMessageNotContaining("data-nodes-secret");
    }
}
