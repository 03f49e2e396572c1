package org.ctrranker.localenv;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalStackExtension.class)
class LocalStackIT {

    @Test
    void createsEveryProjectTopicWithSeveralPartitions(LocalStack stack) throws Exception {
        try (Admin admin = stack.admin()) {
            List<String> names = java.util.Arrays.stream(EventTopic.values()).map(EventTopic::defaultName).toList();
            Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            assertThat(topics).hasSize(6);
            assertThat(topics.values()).allSatisfy(t -> assertThat(t.partitions()).hasSize(StackOptions.DEFAULT_PARTITIONS));
        }
    }

    @Test
    void brokerAcceptsTransactionalWritesAndCountsOnlyCommittedRecords(LocalStack stack) {
        String topic = "it-transactions";
        stack.createTopics(List.of(topic), 2);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.endpoints().kafkaBootstrap());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-tx");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "committed"));
            }
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "aborted"));
            producer.flush();
            producer.abortTransaction();
        }
        assertThat(stack.countRecords(List.of(topic))).containsEntry(topic, 10L);
    }

    @Test
    void redisAnswersOnLoopback(StackEndpoints endpoints) throws Exception {
        assertThat(endpoints.redisHost()).isEqualTo("127.0.0.1");
        assertThat(Readiness.redisPing(endpoints.redisHost(), endpoints.redisPort())).isTrue();
        try (java.net.Socket socket = new java.net.Socket(endpoints.redisHost(), endpoints.redisPort())) {
            socket.getOutputStream().write("SET it:key v1\r\nGET it:key\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = socket.getInputStream().readNBytes("+OK\r\n$2\r\nv1\r\n".length());
            assertThat(new String(reply, StandardCharsets.US_ASCII)).isEqualTo("+OK\r\n$2\r\nv1\r\n");
        }
    }

    @Test
    void detachedStackIsFoundAgainAndStopsWithoutLeftovers() throws Exception {
        Path workDir = Files.createTempDirectory("ctr-detached");
        LocalStack started = LocalStack.start(StackOptions.builder().workDir(workDir).detached(true)
                .topics(List.of("ad-clicks")).partitions(1).build());
        StackEndpoints endpoints = started.endpoints();
        List<Long> pids = started.pids();
        try {
            assertThat(Files.readString(workDir.resolve(LocalStack.STATE_FILE))).contains(endpoints.kafkaBootstrap());
            LocalStack found = LocalStack.findRunning(workDir).orElseThrow();
            assertThat(found.endpoints()).isEqualTo(endpoints);
            assertThat(found.isRunning()).isTrue();
            found.close();
        } finally {
            started.close();
        }
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("process %d still alive", pid).isFalse());
        assertThat(LocalStack.findRunning(workDir)).isEmpty();
        int kafkaPort = Integer.parseInt(endpoints.kafkaBootstrap().split(":")[1]);
        for (int port : List.of(kafkaPort, endpoints.redisPort())) {
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(socket.getLocalPort()).isEqualTo(port);
            }
        }
        WorkDirs.deleteRecursively(workDir);
    }
}
