package org.ctrranker.localenv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Servers given a port that was taken after it was picked start again on other ports. */
class FreePortsIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void redisGivenATakenPortStartsAgainOnAnother(@TempDir Path dir) throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            RedisServer server = FreePorts.startOnFreePorts(() -> {
                boolean first = attempts.incrementAndGet() == 1;
                // a later --port overrides the one RedisServer picked
                List<String> port = first ? List.of("--port", Integer.toString(taken.getLocalPort())) : List.of();
                return RedisServer.start(dir, false, port).awaitedBy(started -> Readiness.awaitRedis("127.0.0.1",
                        first ? taken.getLocalPort() : started.port(), started.process(), TIMEOUT));
            });
            try {
                assertThat(attempts).hasValue(2);
                assertThat(Readiness.redisPing("127.0.0.1", server.port())).isTrue();
            } finally {
                server.stop();
            }
        }
    }

    @Test
    void redisGivesUpAfterTheLastAttemptAndDoesNotRetryOtherFailures(@TempDir Path dir) throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> FreePorts.startOnFreePorts(() -> {
                attempts.incrementAndGet();
                return RedisServer.start(dir, false, List.of("--port", Integer.toString(taken.getLocalPort())))
                        .awaitedBy(started -> Readiness.awaitRedis("127.0.0.1", taken.getLocalPort(),
                                started.process(), TIMEOUT));
            })).isInstanceOf(FreePorts.PortTakenException.class).hasMessageContaining(FreePorts.BIND_FAILURE);
            assertThat(attempts).hasValue(FreePorts.START_ATTEMPTS);
        }
        attempts.set(0);
        // the log of the attempts above, in the same directory, says the port was taken: only this start's lines count
        assertThatThrownBy(() -> FreePorts.startOnFreePorts(() -> {
            attempts.incrementAndGet();
            return RedisServer.start(dir, false, List.of("--no-such-directive", "yes")).awaitedBy(started ->
                    Readiness.awaitRedis("127.0.0.1", started.port(), started.process(), TIMEOUT));
        })).isInstanceOf(IllegalStateException.class).isNotInstanceOf(FreePorts.PortTakenException.class)
                .hasMessageContaining("no-such-directive");
        assertThat(attempts).hasValue(1);
    }

    @Test
    void kafkaGivenATakenPortStartsAgainOnAnother(@TempDir Path workDir) throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            KafkaBroker broker = FreePorts.startOnFreePorts(() -> {
                int port = attempts.incrementAndGet() == 1 ? taken.getLocalPort() : FreePorts.next();
                return KafkaBroker.start(workDir, 1, false, port, FreePorts.next()).awaited(Duration.ofSeconds(90));
            });
            try {
                assertThat(attempts).hasValue(2);
                assertThat(broker.bootstrapServers()).doesNotEndWith(":" + taken.getLocalPort());
            } finally {
                broker.stop();
            }
        }
    }
}
