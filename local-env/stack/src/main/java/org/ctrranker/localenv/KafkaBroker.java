package org.ctrranker.localenv;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.ctrranker.localenv.kafka.BrokerMain;

/** A single-node Kafka broker in combined KRaft mode, in its own JVM, on loopback ports. */
final class KafkaBroker {

    private static final String CLASSPATH_RESOURCE = "META-INF/ctr/kafka-server.classpath";

    private final ManagedProcess process;
    private final String bootstrapServers;

    private KafkaBroker(ManagedProcess process, String bootstrapServers) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
    }

    static KafkaBroker start(Path workDir, int defaultPartitions, boolean detached) {
        return start(workDir, defaultPartitions, detached, FreePorts.next(), FreePorts.next());
    }

    static KafkaBroker start(Path workDir, int defaultPartitions, boolean detached, int port, int controllerPort) {
        Path dir = workDir.resolve("kafka");
        try {
            Files.createDirectories(dir);
            // formatted anew, with a cluster id of its own, on every start: the data of an earlier one (an attempt on
            // a port taken meanwhile) names another id, and the broker would refuse it
            WorkDirs.deleteRecursively(dir.resolve("data"));
            Path properties = dir.resolve("server.properties");
            Files.writeString(properties, serverProperties(dir, port, controllerPort, defaultPartitions));
            Path log4j = dir.resolve("log4j2.properties");
            Files.writeString(log4j, log4jProperties(dir));
            List<String> command = new ArrayList<>();
            command.add(javaExecutable());
            command.addAll(List.of("-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                    "-Dlog4j2.configurationFile=" + log4j.toUri(),
                    "-cp", brokerClasspath(), BrokerMain.class.getName()));
            if (!detached) {
                command.addAll(List.of("--watch-parent", Long.toString(ProcessHandle.current().pid())));
            }
            command.addAll(List.of("--format", Uuid.randomUuid().toString(), properties.toString()));
            ManagedProcess process = ManagedProcess.start("kafka", command, dir.resolve("broker.out"), detached, Map.of());
            return new KafkaBroker(process, "127.0.0.1:" + port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the Kafka broker in " + dir, e);
        }
    }

    static KafkaBroker existing(long pid, String bootstrapServers, Path logFile) {
        return new KafkaBroker(ManagedProcess.existing("kafka", pid, logFile), bootstrapServers);
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    ManagedProcess process() {
        return process;
    }

    void stop() {
        process.stop(Duration.ofSeconds(20));
    }

    /** This broker once it answers; stopped when it does not (an attempt of {@link FreePorts#startOnFreePorts}). */
    KafkaBroker awaited(Duration timeout) {
        try {
            Readiness.awaitKafka(bootstrapServers, process, timeout);
            return this;
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    private static String serverProperties(Path dir, int port, int controllerPort, int partitions) {
        return String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=" + partitions,
                // One broker: every internal topic must accept replication factor 1, or consumers
                // and transactions silently stall.
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "transaction.max.timeout.ms=900000",
                // Keep everything: replays and generated streams carry event times far in the past.
                "log.retention.ms=-1",
                "log.flush.interval.messages=9223372036854775807",
                "")
                ;
    }

    private static String log4jProperties(Path dir) {
        return String.join("\n",
                "status = warn",
                "appender.file.type = File",
                "appender.file.name = file",
                "appender.file.fileName = " + dir.resolve("server.log"),
                "appender.file.append = true",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                // errors also on the broker's output, one line each: the tail a failed start reports
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.filter.threshold.type = ThresholdFilter",
                "appender.console.filter.threshold.level = error",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %p %m%notEmpty{: %throwable{short.message}} (%c)%n",
                "appender.console.layout.alwaysWriteExceptions = false",
                "rootLogger.level = warn",
                "rootLogger.appenderRef.file.ref = file",
                "rootLogger.appenderRef.console.ref = console",
                "logger.kafka.name = kafka.server.KafkaRaftServer",
                "logger.kafka.level = info",
                "");
    }

    static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The broker's jars as resolved by Maven when the kafka-server module was built, plus that module. */
    private static String brokerClasspath() {
        try (InputStream in = KafkaBroker.class.getClassLoader().getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CLASSPATH_RESOURCE + " is missing: build the project first (mvn -B -DskipTests package)");
            }
            String classpath = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            Path launcher = Path.of(BrokerMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return launcher + java.io.File.pathSeparator + classpath;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
