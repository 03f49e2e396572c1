package org.ctrranker.operators.ingest;

import java.nio.ByteBuffer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.ctrranker.events.DeadLetter;

/** Builds dead letters that keep the rejected record byte for byte. */
public final class DeadLetters {

    private DeadLetters() {}

    static DeadLetter of(ConsumerRecord<byte[], byte[]> record, String stage, String reason, String errorClass,
            Long eventTimeMs, long nowMs) {
        return DeadLetter.newBuilder()
                .setSourceTopic(record.topic())
                .setSourcePartition(record.partition())
                .setSourceOffset(record.offset())
                .setStage(stage)
                .setReason(reason)
                .setErrorClass(errorClass)
                .setRawKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                .setRawValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                .setEventTimeMs(eventTimeMs)
                .setFailedAtMs(nowMs)
                .build();
    }

    /** A record rejected after decoding, inside the job (e.g. a duplicate or an unmatched impression). */
    public static DeadLetter ofEvent(String sourceTopic, String stage, String reason, byte[] key, byte[] value,
            long eventTimeMs, long nowMs) {
        return DeadLetter.newBuilder()
                .setSourceTopic(sourceTopic)
                .setStage(stage)
                .setReason(reason)
                .setRawKey(key == null ? null : ByteBuffer.wrap(key))
                .setRawValue(value == null ? null : ByteBuffer.wrap(value))
                .setEventTimeMs(eventTimeMs)
                .setFailedAtMs(nowMs)
                .build();
    }
}
