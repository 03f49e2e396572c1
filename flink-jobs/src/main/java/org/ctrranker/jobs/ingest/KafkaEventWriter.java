package org.ctrranker.jobs.ingest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.generate.RecordBytes;
import org.ctrranker.schemas.EventTopic;

/**
 * Writes event records to their topics, keyed as {@link EventTopic} says, through one idempotent
 * producer (per-partition order kept, no duplicates on retry). The first failed send fails the
 * next call, so nothing is dropped silently.
 */
public final class KafkaEventWriter implements Consumer<GeneratedRecord>, AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final Map<EventTopic, String> topicNames;
    private final RecordBytes recordBytes = new RecordBytes();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private long sent;

    /** For bulk writes (generate, replay, tests): batches filled for up to 10 ms, lz4-compressed. */
    public KafkaEventWriter(String bootstrapServers, Map<EventTopic, String> topicNames) {
        this(bootstrapServers, topicNames, 10, true);
    }

    /**
     * {@code lingerMs}: how long the producer waits to fill a batch (0 for latency measurements);
     * {@code compressed}: lz4 batches. Compression pays for bulk writes only: every lz4 batch allocates two 64 KB
     * blocks, so a paced writer, whose batches hold a record or two, mostly makes garbage (1.5 GB in two minutes
     * of {@code bench e2e}'s load, in the JVM the job runs in, whose young collections pause the scorers).
     */
    public KafkaEventWriter(String bootstrapServers, Map<EventTopic, String> topicNames, int lingerMs, boolean compressed) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compressed ? "lz4" : "none");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "ctr-event-writer");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.topicNames = Map.copyOf(topicNames);
    }

    /** Writes to the topics under their default names. */
    public static KafkaEventWriter withDefaultTopics(String bootstrapServers) {
        return new KafkaEventWriter(bootstrapServers, defaultTopicNames());
    }

    public static Map<EventTopic, String> defaultTopicNames() {
        Map<EventTopic, String> names = new java.util.EnumMap<>(EventTopic.class);
        for (EventTopic topic : EventTopic.values()) {
            names.put(topic, topic.defaultName());
        }
        return names;
    }

    @Override
    public void accept(GeneratedRecord record) {
        throwIfFailed();
        byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
        // The record timestamp is the time of writing, not the event time: replayed logs are years
        // old and time-based retention would delete them at once. Event time is in the payload.
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topicNames.get(record.topic()), key,
                recordBytes.valueOf(record));
        producer.send(out, (metadata, exception) -> {
            if (exception != null) {
                failure.compareAndSet(null, exception);
            }
        });
        sent++;
    }

    public long sent() {
        return sent;
    }

    /** Blocks until every record handed over so far is acknowledged. */
    public void flush() {
        producer.flush();
        throwIfFailed();
    }

    @Override
    public void close() {
        try {
            flush();
        } finally {
            producer.close(Duration.ofSeconds(30));
        }
    }

    private void throwIfFailed() {
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("writing to Kafka failed: " + e.getMessage(), e);
        }
    }
}
