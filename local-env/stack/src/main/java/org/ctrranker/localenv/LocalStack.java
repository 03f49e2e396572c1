package org.ctrranker.localenv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A real local stack: one Kafka broker (KRaft, own JVM) and one redis-server, both on free
 * loopback ports, with the project's topics created. Used by {@code bin/ctr stack}, the demo and
 * the tests ({@link LocalStackExtension}).
 */
public final class LocalStack implements AutoCloseable {

    /**
     * Written by a detached stack so later commands find it without flags: shell-sourceable
     * {@code KEY=value} lines, the first two exactly what {@code bin/ctr stack up} prints.
     */
    public static final String STATE_FILE = "stack.env";

    private static final Duration REDIS_START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration KAFKA_START_TIMEOUT = Duration.ofSeconds(90);

    private final Path workDir;
    private final KafkaBroker kafka;
    private final RedisServer redis;
    private final StackEndpoints endpoints;

    private LocalStack(Path workDir, KafkaBroker kafka, RedisServer redis) {
        this.workDir = workDir;
        this.kafka = kafka;
        this.redis = redis;
        this.endpoints = new StackEndpoints(kafka.bootstrapServers(), "127.0.0.1", redis.port());
    }

    public static LocalStack start(StackOptions options) {
        Path workDir = options.workDir();
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + workDir, e);
        }
        RedisServer redis = FreePorts.startOnFreePorts(() -> RedisServer.start(workDir, options.detached())
                .awaitedBy(started -> Readiness.awaitRedis("127.0.0.1", started.port(), started.process(),
                        REDIS_START_TIMEOUT)));
        KafkaBroker kafka;
        try {
            kafka = FreePorts.startOnFreePorts(() -> KafkaBroker.start(workDir, options.partitions(), options.detached())
                    .awaited(KAFKA_START_TIMEOUT));
        } catch (RuntimeException e) {
            redis.stop();
            throw e;
        }
        LocalStack stack = new LocalStack(workDir, kafka, redis);
        try {
            stack.createTopics(options.topics(), options.partitions());
            if (options.detached()) {
                stack.writeState();
            }
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    public StackEndpoints endpoints() {
        return endpoints;
    }

    public Path workDir() {
        return workDir;
    }

    /**
     * Creates the topics that do not exist yet (replication factor 1) and returns once every
     * partition has a leader: creation is acknowledged by the controller before the broker serves it.
     */
    public void createTopics(Collection<String> names, int partitions) {
        try (Admin admin = admin()) {
            for (String name : names) {
                try {
                    admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause(), e);
                    }
                }
            }
            awaitLeaders(admin, names);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("creating topics timed out", e);
        }
    }

    private static void awaitLeaders(Admin admin, Collection<String> names)
            throws InterruptedException, java.util.concurrent.TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                boolean ready = admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS).values().stream()
                        .allMatch(t -> t.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
                if (ready) {
                    return;
                }
            } catch (ExecutionException e) {
                // not served by the broker yet
            }
            if (System.nanoTime() > deadline) {
                throw new java.util.concurrent.TimeoutException("topics " + names + " have no leader after 30 s");
            }
            Thread.sleep(50);
        }
    }

    /** Committed records per topic, counted by reading each topic to its end. */
    public Map<String, Long> countRecords(Collection<String> topics) {
        return TopicRecordCounter.countCommitted(endpoints.kafkaBootstrap(), topics);
    }

    public Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, endpoints.kafkaBootstrap());
        return Admin.create(props);
    }

    /** Stops both servers; a detached stack's state file goes with them. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (Runnable stop : List.<Runnable>of(kafka::stop, redis::stop)) {
            try {
                stop.run();
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        try {
            Files.deleteIfExists(workDir.resolve(STATE_FILE));
        } catch (IOException e) {
            failure = failure == null ? new UncheckedIOException(e) : failure;
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The process ids of the broker and redis (for leak checks and status). */
    public List<Long> pids() {
        return List.of(kafka.process().pid(), redis.process().pid());
    }

    public boolean isRunning() {
        return kafka.process().isAlive() && redis.process().isAlive();
    }

    // --- a detached stack, found again by later commands ----------------------------------------

    /** The detached stack recorded in {@code workDir}, if its processes are still alive. */
    public static Optional<LocalStack> findRunning(Path workDir) {
        Path stateFile = workDir.resolve(STATE_FILE);
        if (!Files.exists(stateFile)) {
            return Optional.empty();
        }
        Map<String, String> state = new java.util.HashMap<>();
        try {
            for (String line : Files.readAllLines(stateFile)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    state.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + stateFile, e);
        }
        String redisUrl = required(state, "REDIS_URL", stateFile);
        KafkaBroker kafka = KafkaBroker.existing(Long.parseLong(required(state, "KAFKA_PID", stateFile)),
                required(state, "KAFKA_BOOTSTRAP", stateFile), workDir.resolve("kafka/broker.out"));
        RedisServer redis = RedisServer.existing(Long.parseLong(required(state, "REDIS_PID", stateFile)),
                Integer.parseInt(redisUrl.substring(redisUrl.lastIndexOf(':') + 1)), workDir.resolve("redis/redis.log"));
        return Optional.of(new LocalStack(workDir, kafka, redis));
    }

    private void writeState() {
        String state = endpoints.asEnvLines()
                + "KAFKA_PID=" + kafka.process().pid() + "\n"
                + "REDIS_PID=" + redis.process().pid() + "\n";
        try {
            Files.writeString(workDir.resolve(STATE_FILE), state);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the stack state into " + workDir, e);
        }
    }

    private static String required(Map<String, String> state, String key, Path stateFile) {
        String value = state.get(key);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException(stateFile + " lacks " + key + ": stop the stack's processes and run bin/ctr stack up again");
        }
        return value;
    }
}
