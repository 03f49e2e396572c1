package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.function.Supplier;

/** Free TCP ports on the loopback interface, and starting servers on them. */
final class FreePorts {

    /** What redis-server and Kafka log when a port they were given is taken. */
    static final String BIND_FAILURE = "Address already in use";

    static final int START_ATTEMPTS = 3;

    private FreePorts() {}

    static int next() {
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
