package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** A real {@code redis-server} on a free loopback port, keeping nothing on disk. */
final class RedisServer {

    private final ManagedProcess process;
    private final int port;

    private RedisServer(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    static RedisServer start(Path workDir, boolean detached) {
        return start(workDir.resolve("redis"), detached, List.of());
    }

    /** A server keeping its files (log, cluster state) in {@code dir}, with {@code extraArguments} on its command line. */
    static RedisServer start(Path dir, boolean detached, List<String> extraArguments) {
        return start(dir, detached, List.of(), extraArguments);
    }

    /**
     * A Sentinel (redis-server in Sentinel mode) keeping its configuration, which it rewrites as it learns the
     * primary's replicas and failovers, in {@code dir}; {@code extraArguments} such as {@code --sentinel monitor ...}.
     */
    static RedisServer startSentinel(Path dir, List<String> extraArguments) {
        Path config = dir.resolve("sentinel.conf");
        try {
            Files.createDirectories(dir);
            Files.writeString(config, "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return start(dir, false, List.of(config.toString(), "--sentinel"), extraArguments);
    }

    private static RedisServer start(Path dir, boolean detached, List<String> leadingArguments,
            List<String> extraArguments) {
        String binary = RedisBinary.locateOrInstall();
        int port = FreePorts.next();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> redis = new ArrayList<>(List.of(binary));
        redis.addAll(leadingArguments);
        redis.addAll(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no",
                "--protected-mode", "yes"));
        redis.addAll(extraArguments);
        List<String> command = new ArrayList<>();
        if (detached) {
            command.addAll(redis);
        } else {
            // redis-server cannot watch its parent; this shell stops it when the JVM is gone, even
            // when the JVM was killed without running its shutdown hooks.
            command.addAll(List.of("bash", "-c",
                    "\"$@\" & r=$!; trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT; "
                            + "while kill -0 " + ProcessHandle.current().pid() + " 2>/dev/null && kill -0 $r 2>/dev/null; "
                            + "do sleep 0.5; done; kill $r 2>/dev/null; wait $r",
                    "redis-watch"));
            command.addAll(redis);
        }
        ManagedProcess process = ManagedProcess.start("redis", command, dir.resolve("redis.log"), detached, Map.of());
        return new RedisServer(process, port);
    }

    static RedisServer existing(long pid, int port, Path logFile) {
        return new RedisServer(ManagedProcess.existing("redis", pid, logFile), port);
    }

    int port() {
        return port;
    }

    /** This server once {@code await} returns; stopped when it throws (an attempt of {@link FreePorts#startOnFreePorts}). */
    RedisServer awaitedBy(Consumer<RedisServer> await) {
        try {
            await.accept(this);
            return this;
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    ManagedProcess process() {
        return process;
    }

    void stop() {
        process.stop(Duration.ofSeconds(5));
    }

    /** Finds redis-server, installing the Debian package when running as root. */
    static final class RedisBinary {

        private RedisBinary() {}

        static String locateOrInstall() {
            Optional<String> found = locate();
            if (found.isPresent()) {
                return found.get();
            }
            if (!"root".equals(System.getProperty("user.name"))) {
                throw new IllegalStateException("redis-server not found: install it with "
                        + "'sudo apt-get install -y redis-server' or set CTR_REDIS_SERVER to its path");
            }
            install();
            return locate().orElseThrow(() -> new IllegalStateException(
                    "redis-server still missing after apt-get install: install the Debian package redis-server"));
        }

        private static Optional<String> locate() {
            String configured = System.getenv("CTR_REDIS_SERVER");
            if (configured != null && !configured.isBlank()) {
                if (!Files.isExecutable(Path.of(configured))) {
                    throw new IllegalStateException("CTR_REDIS_SERVER=" + configured + " is not an executable file");
                }
                return Optional.of(configured);
            }
            String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
            List<String> dirs = new ArrayList<>(List.of(path.split(java.io.File.pathSeparator)));
            dirs.addAll(List.of("/usr/bin", "/usr/local/bin", "/usr/sbin"));
            return dirs.stream()
                    .map(d -> Path.of(d, "redis-server"))
                    .filter(Files::isExecutable)
                    .map(Path::toString)
                    .findFirst();
        }

        private static void install() {
            System.err.println("redis-server not found; installing the Debian package redis-server with apt-get");
            run(List.of("apt-get", "install", "-y", "-q", "redis-server"), false);
            if (locate().isEmpty()) {
                run(List.of("apt-get", "update", "-q"), true);
                run(List.of("apt-get", "install", "-y", "-q", "redis-server"), true);
            }
        }

        private static void run(List<String> command, boolean mustSucceed) {
            try {
                ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
                builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
                int rc = builder.start().waitFor();
                if (rc != 0 && mustSucceed) {
                    throw new IllegalStateException(String.join(" ", command) + " failed (exit " + rc
                            + "): install redis-server yourself or set CTR_REDIS_SERVER");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot run " + command.get(0) + ": install redis-server yourself", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while installing redis-server", e);
            }
        }
    }
}
