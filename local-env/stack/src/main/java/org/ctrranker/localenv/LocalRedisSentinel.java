package org.ctrranker.localenv;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A primary, its replica and a Sentinel watching them, real {@code redis-server} processes on free loopback ports, the
 * data nodes behind a password and the Sentinel without one (as deployments often run them), DEBUG allowed from
 * loopback (DEBUG SLEEP holds a node busy): for tests of failover under Sentinel. The Sentinel declares a primary down after a second of silence and, being the only one, promotes the
 * replica on its own. Stopped by {@link #close()} (and with the JVM).
 */
public final class LocalRedisSentinel implements AutoCloseable {

    /** The name the Sentinel monitors the primary under. */
    public static final String PRIMARY_NAME = "ctr-primary";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String password;
    private final List<RedisServer> dataNodes = new ArrayList<>();
    private RedisServer sentinel;

    private LocalRedisSentinel(String password) {
        this.password = password;
    }

    /** Starts the three under {@code workDir}; returns once the replica has synced and the Sentinel knows it. */
    public static LocalRedisSentinel start(Path workDir, String password) {
        LocalRedisSentinel set = new LocalRedisSentinel(password);
        try {
            RedisServer primary = FreePorts.startOnFreePorts(() -> RedisServer.start(workDir.resolve("redis-primary"),
                    false, List.of("--requirepass", password, "--masterauth", password, "--enable-debug-command",
                            "local")).awaitedBy(set::awaitAnswering));
            set.dataNodes.add(primary);
            RedisServer replica = FreePorts.startOnFreePorts(() -> RedisServer.start(workDir.resolve("redis-replica"),
                    false, List.of("--requirepass", password, "--masterauth", password, "--enable-debug-command",
                            "local", "--replicaof", "127.0.0.1", Integer.toString(primary.port())))
                    .awaitedBy(set::awaitAnswering));
            set.dataNodes.add(replica);
            set.await("the replica to sync", () -> set.info(replica.port()).contains("master_link_status:up"));
            set.sentinel = FreePorts.startOnFreePorts(() -> RedisServer.startSentinel(workDir.resolve("redis-sentinel"),
                    List.of("--sentinel", "monitor", PRIMARY_NAME, "127.0.0.1", Integer.toString(primary.port()), "1",
                            "--sentinel", "auth-pass", PRIMARY_NAME, password,
                            "--sentinel", "down-after-milliseconds", PRIMARY_NAME, "1000",
                            "--sentinel", "failover-timeout", PRIMARY_NAME, "10000"))
                    .awaitedBy(sentinel -> Readiness.awaitRedis("127.0.0.1", sentinel.port(), sentinel.process(),
                            TIMEOUT)));
            set.await("the Sentinel to find the replica", () -> replicasKnown(
                    RedisCommand.send(set.sentinel.port(), "SENTINEL", "MASTER", PRIMARY_NAME)) == 1);
            return set;
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /** {@code redis-sentinel://} URL with the data nodes' password, naming the Sentinel and the primary. */
    public String url() {
        return "redis-sentinel://:" + password + "@127.0.0.1:" + sentinel.port() + "#" + PRIMARY_NAME;
    }

    /** The port of the primary the Sentinel names now. */
    public int primaryPort() {
        String[] address = RedisCommand.send(sentinel.port(), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)
                .split("\n");
        return Integer.parseInt(address[1]);
    }

    /** The data node that is not on {@code port}. */
    public int otherPort(int port) {
        return dataNodes.stream().mapToInt(RedisServer::port).filter(p -> p != port).findFirst().orElseThrow();
    }

    /** Stops the data node on {@code port} as a crash would leave it: gone, its connections refused. */
    public void stop(int port) {
        dataNodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow().stop();
    }

    /**
     * Stops the data node on {@code port} at once, as a crash would, without first letting its replica catch up
     * (which a graceful stop does since Redis 7): writes it has not yet sent to the replica are lost with it.
     */
    public void crash(int port) {
        try {
            command(port, "SHUTDOWN", "NOSAVE", "NOW");
        } catch (UncheckedIOException e) {
            // the server closes the connection instead of answering
        }
        dataNodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow().stop();
    }

    /** Waits until the Sentinel names another primary than {@code oldPort} and that node acts as a primary. */
    public void awaitFailoverFrom(int oldPort) {
        await("the Sentinel to promote the replica", () -> primaryPort() != oldPort
                && info(primaryPort()).contains("role:master"));
    }

    /** One command to the data node on {@code port}, authenticated; its reply as {@link RedisCommand} gives it. */
    public String command(int port, String... arguments) {
        return RedisCommand.sendAuthenticated(port, password, arguments);
    }

    private void awaitAnswering(RedisServer node) {
        await("redis-server on port " + node.port() + " to answer", () -> {
            node.process().checkAlive();
            try {
                return command(node.port(), "PING").equals("PONG");
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    private String info(int port) {
        return command(port, "INFO", "replication");
    }

    /** SENTINEL MASTER's reply is field and value, one per line: the value of {@code num-slaves}. */
    private static int replicasKnown(String masterFields) {
        String[] lines = masterFields.split("\n");
        for (int i = 0; i + 1 < lines.length; i += 2) {
            if (lines[i].equals("num-slaves")) {
                return Integer.parseInt(lines[i + 1]);
            }
        }
        return 0;
    }

    private void await(String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waited " + TIMEOUT.toSeconds() + " s for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
    }

    @Override
    public void close() {
        if (sentinel != null) {
            sentinel.stop();
        }
        for (RedisServer node : dataNodes) {
            node.stop();
        }
    }
}
