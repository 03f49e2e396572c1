package org.ctrranker.operators.ingest;

import java.io.IOException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/**
 * Decodes and validates an input topic's records. A record that does not decode or breaks a rule
 * becomes a {@link DeadLetter} (left) with the reason and the raw bytes; nothing is dropped.
 * Validation happens here, before timestamps are assigned, so a broken event time can never move
 * a watermark.
 */
public final class EventDeserializationSchema<T extends SpecificRecord>
        implements KafkaRecordDeserializationSchema<Either<DeadLetter, T>> {

    private static final long serialVersionUID = 1L;

    private final EventTopic topic;
    private final Class<T> type;
    private final ValidationRules rules;
    private transient AvroCodec<T> codec;

    public EventDeserializationSchema(EventTopic topic, Class<T> type, ValidationRules rules) {
        this.topic = topic;
        this.type = type;
        this.rules = rules;
    }

    @Override
    public void open(org.apache.flink.api.common.serialization.DeserializationSchema.InitializationContext context) {
        codec = AvroCodec.forTopic(topic, type);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Either<DeadLetter, T>> out) {
        if (codec == null) {
            codec = AvroCodec.forTopic(topic, type);
        }
        long now = System.currentTimeMillis();
        if (record.value() == null) {
            out.collect(Either.Left(DeadLetters.of(record, "decode", "empty value (tombstone)", null, null, now)));
            return;
        }
        T event;
        try {
            event = codec.decode(record.value());
        } catch (IOException e) {
            out.collect(Either.Left(DeadLetters.of(record, "decode", "not a " + type.getSimpleName() + " record: "
                    + e.getMessage(), e.getClass().getName(), null, now)));
            return;
        }
        String problem = EventValidator.check(event, rules, now);
        if (problem != null) {
            out.collect(Either.Left(DeadLetters.of(record, "validate", problem, null, EventTimes.of(event), now)));
            return;
        }
        out.collect(Either.Right(event));
    }

    @Override
    public TypeInformation<Either<DeadLetter, T>> getProducedType() {
        return new EitherTypeInfo<>(AvroTypeInfo.forRecord(DeadLetter.class), AvroTypeInfo.forRecord(type));
    }
}
