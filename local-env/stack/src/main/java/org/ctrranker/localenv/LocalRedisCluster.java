package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Redis Cluster of real {@code redis-server} processes on free loopback ports, primaries only, the 16,384 slots
 * split evenly, nothing kept on disk but each node's cluster state file: for tests and benchmarks of the cluster
 * paths. Stopped by {@link #close()} (and with the JVM).
 */
public final class LocalRedisCluster implements AutoCloseable {

    private static final int SLOTS = 16384;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final List<RedisServer> nodes;
    /** Each node's TLS port, when the cluster speaks TLS; empty otherwise. */
    private final List<Integer> tlsPorts;
    private final Path certificate;

    private LocalRedisCluster(List<RedisServer> nodes, List<Integer> tlsPorts, Path certificate) {
        this.nodes = nodes;
        this.tlsPorts = tlsPorts;
        this.certificate = certificate;
    }

    /** Starts {@code primaries} nodes under {@code workDir} and joins them into one cluster whose state is ok. */
    public static LocalRedisCluster start(Path workDir, int primaries) {
        return start(workDir, primaries, null);
    }

    /**
     * As {@link #start(Path, int)}, the nodes speaking TLS to clients and to each other with a self-signed certificate
     * for 127.0.0.1 ({@link #certificate()}); a TLS client is told the nodes' TLS ports. Their plain ports stay open
     * for {@link #command}.
     */
    public static LocalRedisCluster startTls(Path workDir, int primaries) {
        Path certificate = workDir.resolve("redis-cluster.crt");
        Path key = workDir.resolve("redis-cluster.key");
        LocalTlsRedis.selfSigned(workDir, certificate, key);
        return start(workDir, primaries, key);
    }

    /** Starts a node on ports picked for it and waits until it answers. */
    private static RedisServer startNode(Path dir, Path tlsKey, Path certificate, List<Integer> busPorts,
            List<Integer> tlsPorts) {
        return FreePorts.startOnFreePorts(() -> {
            // a node that could not bind may have left a nodes.conf naming its ports
            deleteIfExists(dir.resolve("nodes.conf"));
            // the bus port given, not the default of the client port + 10,000, which is past 65,535 for a quarter
            // of the ephemeral ports a free port comes from
            int busPort = FreePorts.next();
            List<String> arguments = new ArrayList<>(List.of("--cluster-enabled", "yes", "--cluster-config-file",
                    dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", "5000",
                    "--cluster-port", Integer.toString(busPort)));
            int tlsPort = -1;
            if (tlsKey != null) {
                tlsPort = FreePorts.next();
                arguments.addAll(List.of("--tls-port", Integer.toString(tlsPort), "--tls-cert-file",
                        certificate.toString(), "--tls-key-file", tlsKey.toString(), "--tls-ca-cert-file",
                        certificate.toString(), "--tls-auth-clients", "no", "--tls-cluster", "yes"));
            }
            RedisServer node = RedisServer.start(dir, false, arguments).awaitedBy(started ->
                    Readiness.awaitRedis("127.0.0.1", started.port(), started.process(), START_TIMEOUT));
            busPorts.add(busPort);
            if (tlsKey != null) {
                tlsPorts.add(tlsPort);
            }
            return node;
        });
    }

    private static void deleteIfExists(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static LocalRedisCluster start(Path workDir, int primaries, Path tlsKey) {
        if (primaries < 1) {
            throw new IllegalArgumentException("a cluster needs at least one primary");
        }
        List<RedisServer> nodes = new ArrayList<>();
        List<Integer> tlsPorts = new ArrayList<>();
        List<Integer> busPorts = new ArrayList<>();
        Path certificate = tlsKey == null ? null : workDir.resolve("redis-cluster.crt");
        LocalRedisCluster cluster = new LocalRedisCluster(nodes, tlsPorts, certificate);
        try {
            for (int i = 0; i < primaries; i++) {
                nodes.add(startNode(workDir.resolve("redis-cluster-" + i), tlsKey, certificate, busPorts, tlsPorts));
            }
            for (int i = 0; i < primaries; i++) {
                int first = i * SLOTS / primaries;
                int last = (i + 1) * SLOTS / primaries - 1;
                cluster.command(i, "CLUSTER", "ADDSLOTSRANGE", Integer.toString(first), Integer.toString(last));
                if (i > 0) {
                    int port = tlsKey == null ? nodes.get(i).port() : tlsPorts.get(i);
                    cluster.command(0, "CLUSTER", "MEET", "127.0.0.1", Integer.toString(port),
                            Integer.toString(busPorts.get(i)));
                }
            }
            cluster.awaitFormed();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** {@code redis-cluster://} (or, speaking TLS, {@code rediss-cluster://}) URL naming the first node. */
    public String url() {
        return tlsPorts.isEmpty() ? "redis-cluster://127.0.0.1:" + nodes.get(0).port()
                : "rediss-cluster://127.0.0.1:" + tlsPorts.get(0);
    }

    /** The nodes' certificate (PEM) a TLS client must trust; null for a cluster without TLS. */
    public Path certificate() {
        return certificate;
    }

    public List<Integer> ports() {
        return nodes.stream().map(RedisServer::port).toList();
    }

    /**
     * One command to node {@code index} (0-based), its reply as text: a status or error line, a bulk string, an
     * integer, or an array of bulk strings one per line. A reply that is an error throws.
     */
    public String command(int index, String... arguments) {
        return RedisCommand.send(nodes.get(index).port(), arguments);
    }

    /**
     * Starts moving {@code slot} from node {@code from} to node {@code to} as a reshard does: from then on {@code from}
     * answers ASK for the slot's keys it does not hold, and {@code to} takes them only after ASKING.
     */
    public void beginSlotMove(int slot, int from, int to) {
        List<String> ids = nodeIds();
        command(to, "CLUSTER", "SETSLOT", Integer.toString(slot), "IMPORTING", ids.get(from));
        command(from, "CLUSTER", "SETSLOT", Integer.toString(slot), "MIGRATING", ids.get(to));
    }

    /** {@link #endSlotMove} on a thread of its own after {@code delayMs}: the thread, started, for the caller to join. */
    public Thread endSlotMoveAfter(long delayMs, int slot, int from, int to) {
        Thread ending = new Thread(() -> {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            endSlotMove(slot, from, to);
        }, "slot " + slot + " move");
        ending.setDaemon(true);
        ending.start();
        return ending;
    }

    /** The node (0-based) {@link #start} gave {@code slot}: each primary an equal range, in node order. */
    public int primaryOf(int slot) {
        int node = 0;
        while (slot >= (node + 1) * SLOTS / nodes.size()) {
            node++;
        }
        return node;
    }

    /** Moves the slot's keys over ({@code MIGRATE}) and hands the slot to {@code to} on every node. */
    public void endSlotMove(int slot, int from, int to) {
        while (true) {
            String keys = command(from, "CLUSTER", "GETKEYSINSLOT", Integer.toString(slot), "100");
            if (keys.isEmpty()) {
                break;
            }
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(nodes.get(to).port()),
                    "", "0", "5000", "KEYS"));
            migrate.addAll(List.of(keys.split("\n")));
            command(from, migrate.toArray(String[]::new));
        }
        String owner = nodeIds().get(to);
        command(to, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", owner);
        command(from, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", owner);
        for (int i = 0; i < nodes.size(); i++) {
            if (i != from && i != to) {
                command(i, "CLUSTER", "SETSLOT", Integer.toString(slot), "NODE", owner);
            }
        }
    }

    /** Every node's cluster id, in node order. */
    public List<String> nodeIds() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            ids.add(command(i, "CLUSTER", "MYID"));
        }
        return ids;
    }

    private void awaitFormed() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            boolean formed = true;
            for (int i = 0; i < nodes.size() && formed; i++) {
                String info = command(i, "CLUSTER", "INFO");
                formed = info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:" + nodes.size())
                        && info.contains("cluster_slots_assigned:" + SLOTS);
            }
            if (formed) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the Redis Cluster on ports " + ports() + " did not form within "
                        + START_TIMEOUT.toSeconds() + " s: " + command(0, "CLUSTER", "INFO"));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the Redis Cluster formed", e);
            }
        }
    }

    @Override
    public void close() {
        for (RedisServer node : nodes) {
            node.stop();
        }
    }
}
