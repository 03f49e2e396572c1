package org.ctrranker.localenv.kafka;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Optional;

/**
 * Entry point of the local Kafka broker JVM: {@code [--watch-parent PID] [--format CLUSTER_ID] server.properties}.
 *
 * <p>Formatting the KRaft storage here rather than in a separate StorageTool JVM saves one JVM
 * start per broker. With {@code --watch-parent} the broker exits as soon as that process is gone,
 * so a test JVM killed without its shutdown hooks never leaves a broker behind.
 */
public final class BrokerMain {

    private BrokerMain() {}

    public static void main(String[] args) throws Exception {
        Deque<String> rest = new ArrayDeque<>(Arrays.asList(args));
        Long parentPid = null;
        String clusterId = null;
        while (rest.size() > 1 && rest.peekFirst().startsWith("--")) {
            String flag = rest.pollFirst();
            switch (flag) {
                case "--watch-parent" -> parentPid = Long.parseLong(rest.pollFirst());
                case "--format" -> clusterId = rest.pollFirst();
                default -> throw new IllegalArgumentException("unknown option " + flag);
            }
        }
        if (rest.size() != 1) {
            throw new IllegalArgumentException(
                    "usage: BrokerMain [--watch-parent PID] [--format CLUSTER_ID] server.properties");
        }
        String properties = rest.pollFirst();
        if (parentPid != null) {
            watchParent(parentPid);
        }
        if (clusterId != null) {
            int rc = kafka.tools.StorageTool.execute(
                    new String[] {"format", "-t", clusterId, "-c", properties, "--ignore-formatted"}, System.out);
            if (rc != 0) {
                System.err.println("formatting the KRaft storage failed with exit code " + rc);
                System.exit(rc);
            }
        }
        kafka.Kafka.main(new String[] {properties});
    }

    private static void watchParent(long parentPid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty()) {
            System.err.println("parent process " + parentPid + " is already gone; not starting");
            Runtime.getRuntime().halt(3);
        }
        // System.exit runs Kafka's shutdown hook, which closes the logs cleanly.
        parent.get().onExit().thenRun(() -> System.exit(0));
    }
}
