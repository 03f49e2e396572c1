package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/** Free TCP ports on the loopback interface, and starting servers on them. */
final class FreePorts {

    /** What redis-server and Kafka log when a port they were given is taken. */
    static final String BIND_FAILURE = "Address already in use";

    static final int START_ATTEMPTS = 3;

    /**
     * How many of the ports this process picked last are never picked again. A port is closed when it is picked, so
     * the kernel may hand it out again before the server it was meant for binds it: once in CI a Kafka broker's
     * listener and controller were given the same port.
     */
    static final int RECENTLY_PICKED = 256;

    private static final Deque<Integer> recentlyPicked = new ArrayDeque<>();

    private FreePorts() {}

    /** A port free now on the loopback interface, and none of the last {@link #RECENTLY_PICKED} this method gave. */
    static synchronized int next() {
        for (int tries = 0; tries < 1_000; tries++) {
            int port = anyFree();
            if (!recentlyPicked.contains(port)) {
                if (recentlyPicked.size() == RECENTLY_PICKED) {
                    recentlyPicked.removeFirst();
                }
                recentlyPicked.addLast(port);
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port that was not picked lately; free some local ports");
    }

    private static int anyFree() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /**
     * Runs {@code attempt} (pick ports with {@link #next()}, start the server, wait until it answers, stop it when it
     * does not) until a server binds its ports, at most {@link #START_ATTEMPTS} times. A picked port is only free
     * when it is picked: an outgoing connection (any test's client) can take it before the server binds it, as once
     * in CI a Redis Cluster node's bus port.
     */
    static <T> T startOnFreePorts(Supplier<T> attempt) {
        for (int attempts = 1; ; attempts++) {
            try {
                return attempt.get();
            } catch (PortTakenException e) {
                if (attempts == START_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** A server exited during start-up because a port picked for it was taken in the meantime. */
    static final class PortTakenException extends IllegalStateException {

        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
