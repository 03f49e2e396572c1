package org.ctrranker.localenv.kafka;

import java.util.Optional;

/**
 * Entry point of the local Kafka broker JVM. It runs {@code kafka.Kafka} and, when started with
 * {@code --watch-parent <pid>}, exits as soon as that process is gone, so a test JVM that dies
 * without running its shutdown hooks never leaves a broker behind.
 */
public final class BrokerMain {

    private BrokerMain() {}

    public static void main(String[] args) throws Exception {
        String[] kafkaArgs = args;
        if (args.length >= 2 && args[0].equals("--watch-parent")) {
            long parentPid = Long.parseLong(args[1]);
            kafkaArgs = java.util.Arrays.copyOfRange(args, 2, args.length);
            startParentWatch(parentPid);
        }
        kafka.Kafka.main(kafkaArgs);
    }

    private static void startParentWatch(long parentPid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty()) {
            System.err.println("parent process " + parentPid + " is already gone; not starting");
            Runtime.getRuntime().halt(3);
        }
        // onExit() completes when the parent is reaped or disappears; System.exit runs Kafka's
        // shutdown hook, which closes the log cleanly.
        parent.get().onExit().thenRun(() -> System.exit(0));
    }
}
