package org.ctrranker.cli.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The broker alone: the time from handing a record to a producer configured as the benchmark's load
 * (acks=all, idempotent, no linger) to a {@code read_committed} consumer receiving it, on a topic of its
 * own, before the job starts. The floor under the job's Kafka-to-Redis latency on the same machine.
 */
final class KafkaRoundTrip {

    private static final String TOPIC = "bench-kafka-round-trip";
    /** Not counted: a new broker, topic and producer take a second or two to settle (p99 285 ms with them). */
    private static final double WARM_UP_SECONDS = 3;

    private KafkaRoundTrip() {}

    static Map<String, Object> measure(String bootstrap, double rate, double seconds) throws Exception {
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin client = Admin.create(admin)) {
            client.createTopics(Set.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        Properties consumerProps = new Properties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        TopicPartition partition = new TopicPartition(TOPIC, 0);
        int warmUp = (int) Math.round(rate * WARM_UP_SECONDS);
        int count = (int) Math.max(1, Math.round(rate * seconds));
        List<Long> micros = new ArrayList<>(count);
        int received = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToEnd(List.of(partition));
            consumer.position(partition);
            Thread sender = new Thread(() -> {
                long periodNanos = (long) (1e9 / rate);
                long next = System.nanoTime();
                for (int i = 0; i < warmUp + count; i++) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    byte[] value = ByteBuffer.allocate(Long.BYTES + 1).put((byte) (i < warmUp ? 0 : 1))
                            .putLong(System.nanoTime()).array();
                    producer.send(new ProducerRecord<>(TOPIC, value));
                    next += periodNanos;
                }
            }, "kafka-round-trip-producer");
            sender.start();
            long deadline = System.nanoTime() + (long) ((WARM_UP_SECONDS + seconds + 10) * 1e9);
            while (received < warmUp + count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    received++;
                    ByteBuffer value = ByteBuffer.wrap(record.value());
                    if (value.get() == 1) {
                        micros.add((now - value.getLong()) / 1_000);
                    }
                }
            }
            sender.join();
        }
        long[] sorted = micros.stream().mapToLong(Long::longValue).sorted().toArray();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("records", count);
        report.put("warm_up_records_not_counted", warmUp);
        report.put("received", sorted.length);
        report.put("records_per_s", rate);
        if (sorted.length > 0) {
            report.put("p50_ms", sorted[(int) Math.ceil(0.50 * sorted.length) - 1] / 1000.0);
            report.put("p99_ms", sorted[(int) Math.ceil(0.99 * sorted.length) - 1] / 1000.0);
            report.put("max_ms", sorted[sorted.length - 1] / 1000.0);
        }
        return report;
    }
}
