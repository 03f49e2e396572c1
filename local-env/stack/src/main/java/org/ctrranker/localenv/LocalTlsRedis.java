package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real {@code redis-server} that speaks only TLS and wants a password, with a self-signed certificate for 127.0.0.1
 * made by {@code openssl}: for tests of {@code rediss://} with AUTH. Stopped by {@link #close()} (and with the JVM).
 */
public final class LocalTlsRedis implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final RedisServer server;
    private final int port;
    private final Path certificate;
    private final String password;

    private LocalTlsRedis(RedisServer server, int port, Path certificate, String password) {
        this.server = server;
        this.port = port;
        this.certificate = certificate;
        this.password = password;
    }

    public static LocalTlsRedis start(Path dir, String password) {
        Path certificate = dir.resolve("redis.crt");
        Path key = dir.resolve("redis.key");
        selfSigned(dir, certificate, key);
        return FreePorts.startOnFreePorts(() -> {
            int port = FreePorts.next();
            RedisServer server = RedisServer.start(dir, false, List.of("--port", "0", "--tls-port",
                    Integer.toString(port), "--tls-cert-file", certificate.toString(), "--tls-key-file", key.toString(),
                    "--tls-ca-cert-file", certificate.toString(), "--tls-auth-clients", "no", "--requirepass", password));
            LocalTlsRedis redis = new LocalTlsRedis(server, port, certificate, password);
            try {
                redis.awaitReady(dir.resolve("redis.log"));
                return redis;
            } catch (RuntimeException e) {
                redis.close();
                throw e;
            }
        });
    }

    /** {@code rediss://} with the password, database 0. */
    public String url() {
        return "rediss://:" + password + "@127.0.0.1:" + port + "/0";
    }

    /** The server's certificate (PEM), the one a client must trust. */
    public Path certificate() {
        return certificate;
    }

    @Override
    public void close() {
        server.stop();
    }

    /** A self-signed certificate for 127.0.0.1 and its key, made by openssl. */
    static void selfSigned(Path dir, Path certificate, Path key) {
        try {
            Files.createDirectories(dir);
            Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key.toString(), "-out", certificate.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
            if (openssl.waitFor() != 0) {
                throw new IllegalStateException("openssl could not make a test certificate: "
                        + Files.readString(dir.resolve("openssl.log")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("openssl is needed for the TLS tests (apt-get install -y openssl)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A TLS port cannot answer a plain PING, so its log says when it listens. */
    private void awaitReady(Path log) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            server.process().checkAlive();
            try {
                if (Files.exists(log) && Files.readString(log).contains("Ready to accept connections")) {
                    return;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server with TLS on port " + port + " was not ready within "
                        + START_TIMEOUT.toSeconds() + " s; log:\n" + server.process().logTail(20));
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
