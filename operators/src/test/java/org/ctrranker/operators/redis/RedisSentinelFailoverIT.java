package org.ctrranker.operators.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    void writesStopWaitingWhileThePrimaryHasNoReplicaAndWaitAgainOnceOneIsBack(@TempDir Path own) throws Exception {
        try (LocalRedisSentinel set = LocalRedisSentinel.start(own, "alone-secret")) {
            RedisEndpoint waiting = RedisEndpoint.parse(set.url()).withReplicaAcks(1, 1_000);
            int primary = set.primaryPort();
            int replica = set.otherPort(primary);
            // one pipeline per flush
            try (VersionedRedisWriter writer = new VersionedRedisWriter(waiting, 1_000, null)) {
                writeAndFlush(writer, "alone:rank:{a", 10);
                assertThat(writer.unreplicatedCount()).isZero();

                // the replica leaves, as when it crashes, or after a failover until the old primary returns as one
                set.command(replica, "REPLICAOF", "NO", "ONE");
                awaitReplication(set, primary, "connected_slaves:0");
                long waitsBefore = waitCalls(set, primary);
                for (int round = 0; round < 20; round++) {
                    writeAndFlush(writer, "alone:rank:{b" + round + "-", 10);
                }
                assertThat(writer.unreplicatedCount()).isEqualTo(200);
                assertThat(waitCalls(set, primary) - waitsBefore)
                        .as("pipelines that waited the whole second for the missing replica").isEqualTo(1);

                set.command(replica, "REPLICAOF", "127.0.0.1", Integer.toString(primary));
                awaitReplication(set, primary, "state=online");
                writeAndFlush(writer, "alone:rank:{c", 10);
                assertThat(waitCalls(set, primary) - waitsBefore).as("the replica back: pipelines wait again")
                        .isEqualTo(2);
                assertThat(writer.unreplicatedCount()).as("the returned replica acknowledged the last writes")
                        .isEqualTo(200);
                assertThat(set.command(replica, "EXISTS", "alone:rank:{c9}")).isEqualTo("1");
                assertThat(writer.appliedCount()).isEqualTo(220);
            }
        }
    }

    private static void writeAndFlush(VersionedRedisWriter writer, String keyPrefix, int keys) throws Exception {
        for (int i = 0; i < keys; i++) {
            writer.write(VersionedWrite.ofText(keyPrefix + i + "}", 1, 60_000, Map.of("n", "1")));
        }
        writer.flush();
    }

    private static long waitCalls(LocalRedisSentinel set, int port) {
        String stats = set.command(port, "INFO", "commandstats");
        Matcher calls = Pattern.compile("cmdstat_wait:calls=(\\d+)").matcher(stats);
        return calls.find() ? Long.parseLong(calls.group(1)) : 0;
    }

    private static void awaitReplication(LocalRedisSentinel set, int port, String replicationField) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!set.command(port, "INFO", "replication").contains(replicationField)) {
            assertThat(System.nanoTime()).as("waiting for %s on port %d", replicationField, port).isLessThan(deadline);
            Thread.sleep(20);
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
