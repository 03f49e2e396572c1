package org.ctrranker.jobs.generate;

import java.util.EnumMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/** The bytes a {@link GeneratedRecord} is written as: its raw bytes, or its value in the topic's wire format. */
public final class RecordBytes {

    private final Map<EventTopic, AvroCodec<? extends SpecificRecord>> codecs = new EnumMap<>(EventTopic.class);

    public byte[] valueOf(GeneratedRecord record) {
        if (record.rawBytes() != null) {
            return record.rawBytes();
        }
        return encode(codecs.computeIfAbsent(record.topic(), t -> AvroCodec.forTopic(t, t.recordClass())), record.value());
    }

    @SuppressWarnings("unchecked")
    private static <T extends SpecificRecord> byte[] encode(AvroCodec<T> codec, SpecificRecord value) {
        return codec.encode((T) value);
    }
}
