package org.ctrranker.operators.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/**
 * Writes a record to its topic in the project's wire format, keyed by the topic's contract key.
 * The Kafka timestamp is the time of writing: event times of replayed data can be years old, and
 * time-based retention would delete such records at once. Event time is in the payload.
 */
public final class AvroRecordSerializationSchema<T extends SpecificRecord> implements KafkaRecordSerializationSchema<T> {

    private static final long serialVersionUID = 1L;

    private final EventTopic topic;
    private final Class<T> type;
    private final String topicName;
    private transient AvroCodec<T> codec;

    public AvroRecordSerializationSchema(EventTopic topic, Class<T> type, String topicName) {
        this.topic = topic;
        this.type = type;
        this.topicName = topicName;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = AvroCodec.forTopic(topic, type);
        }
        String key = topic.keyOf(element);
        return new ProducerRecord<>(topicName, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                codec.encode(element));
    }
}
