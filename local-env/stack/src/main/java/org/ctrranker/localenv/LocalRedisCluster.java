package org.ctrranker.localenv;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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

    private LocalRedisCluster(List<RedisServer> nodes) {
        this.nodes = nodes;
    }

    /** Starts {@code primaries} nodes under {@code workDir} and joins them into one cluster whose state is ok. */
    public static LocalRedisCluster start(Path workDir, int primaries) {
        if (primaries < 1) {
            throw new IllegalArgumentException("a cluster needs at least one primary");
        }
        List<RedisServer> nodes = new ArrayList<>();
        LocalRedisCluster cluster = new LocalRedisCluster(nodes);
        try {
            for (int i = 0; i < primaries; i++) {
                Path dir = workDir.resolve("redis-cluster-" + i);
                RedisServer node = RedisServer.start(dir, false, List.of("--cluster-enabled", "yes",
                        "--cluster-config-file", dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", "5000"));
                nodes.add(node);
                Readiness.awaitRedis("127.0.0.1", node.port(), node.process(), START_TIMEOUT);
            }
            for (int i = 0; i < primaries; i++) {
                int first = i * SLOTS / primaries;
                int last = (i + 1) * SLOTS / primaries - 1;
                cluster.command(i, "CLUSTER", "ADDSLOTSRANGE", Integer.toString(first), Integer.toString(last));
                if (i > 0) {
                    cluster.command(0, "CLUSTER", "MEET", "127.0.0.1", Integer.toString(nodes.get(i).port()));
                }
            }
            cluster.awaitFormed();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** {@code redis-cluster://} URL naming the first node. */
    public String url() {
        return "redis-cluster://127.0.0.1:" + nodes.get(0).port();
    }

    public List<Integer> ports() {
        return nodes.stream().map(RedisServer::port).toList();
    }

    /**
     * One command to node {@code index} (0-based), its reply as text: a status or error line, a bulk string, an
     * integer, or an array of bulk strings one per line. A reply that is an error throws.
     */
    public String command(int index, String... arguments) {
        try (Socket socket = new Socket("127.0.0.1", nodes.get(index).port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            StringBuilder request = new StringBuilder("*").append(arguments.length).append("\r\n");
            for (String argument : arguments) {
                byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
                request.append('$').append(bytes.length).append("\r\n").append(argument).append("\r\n");
            }
            out.write(request.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String line = line(in);
            return switch (line.charAt(0)) {
                case '+', ':' -> line.substring(1);
                case '$' -> bulk(in, line);
                case '*' -> {
                    List<String> elements = new ArrayList<>();
                    for (int n = Integer.parseInt(line.substring(1)); n > 0; n--) {
                        elements.add(bulk(in, line(in)));
                    }
                    yield String.join("\n", elements);
                }
                case '-' -> throw new IllegalStateException("redis-server on port " + nodes.get(index).port() + ": "
                        + String.join(" ", arguments) + ": " + line.substring(1));
                default -> throw new IllegalStateException("unexpected reply to " + arguments[0] + ": " + line);
            };
        } catch (IOException e) {
            throw new UncheckedIOException("talking to redis-server on port " + nodes.get(index).port(), e);
        }
    }

    private static String bulk(InputStream in, String header) throws IOException {
        int length = Integer.parseInt(header.substring(1));
        return length < 0 ? null : new String(in.readNBytes(length + 2), StandardCharsets.UTF_8).substring(0, length);
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

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("redis-server closed the connection");
            }
            line.append((char) c);
        }
        in.read(); // '\n'
        return line.toString();
    }

    @Override
    public void close() {
        for (RedisServer node : nodes) {
            node.stop();
        }
    }
}
