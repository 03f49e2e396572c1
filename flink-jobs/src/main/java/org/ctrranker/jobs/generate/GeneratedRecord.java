package org.ctrranker.jobs.generate;

import org.apache.avro.specific.SpecificRecord;
import org.ctrranker.schemas.EventTopic;

/**
 * One record for a topic, in delivery order. A well-formed record has a {@code value}. A malformed
 * one names why in {@code malformedReason} and has either undecodable {@code rawBytes} or a
 * decodable {@code value} that breaks a validation rule.
 */
public record GeneratedRecord(EventTopic topic, String key, SpecificRecord value, byte[] rawBytes,
        String malformedReason, long eventTimeMs, long deliveryTimeMs) {

    /** A well-formed record delivered at its event time (replays of real logs). */
    public static GeneratedRecord of(EventTopic topic, SpecificRecord value, long eventTimeMs) {
        return valid(topic, value, eventTimeMs, eventTimeMs);
    }

    static GeneratedRecord valid(EventTopic topic, SpecificRecord value, long eventTimeMs, long deliveryTimeMs) {
        return new GeneratedRecord(topic, topic.keyOf(value), value, null, null, eventTimeMs, deliveryTimeMs);
    }

    public boolean malformed() {
        return malformedReason != null;
    }
}
