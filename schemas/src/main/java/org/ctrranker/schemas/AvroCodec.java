package org.ctrranker.schemas;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Wire format of every topic: Avro single-object encoding (a 2-byte marker, the writer schema's
 * 64-bit fingerprint, then the binary record). The fingerprint lets a reader on a newer schema
 * resolve records written with any version kept in {@link SchemaHistory}, without a registry.
 *
 * <p>Instances are thread-compatible, not thread-safe: use one per thread or operator instance.
 */
public final class AvroCodec<T extends SpecificRecord> {

    private final Class<T> type;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    AvroCodec(Class<T> type, Schema schema, Iterable<Schema> olderWriterSchemas) {
        this.type = type;
        this.encoder = new BinaryMessageEncoder<>(AvroModels.forWriting(type), schema);
        this.decoder = new BinaryMessageDecoder<>(SpecificData.getForClass(type), schema);
        for (Schema older : olderWriterSchemas) {
            decoder.addSchema(older);
        }
    }

    public static <T extends SpecificRecord> AvroCodec<T> forTopic(EventTopic topic, Class<T> type) {
        if (!topic.recordClass().equals(type)) {
            throw new IllegalArgumentException(topic.defaultName() + " carries " + topic.recordClass().getSimpleName()
                    + ", not " + type.getSimpleName());
        }
        return new AvroCodec<>(type, topic.schema(), SchemaHistory.versions(topic));
    }

    public Class<T> type() {
        return type;
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + type.getSimpleName(), e);
        }
    }

    /**
     * @throws IOException when the bytes are not a single-object-encoded record of a known version
     *     (wrong marker, unknown fingerprint, truncated or corrupt body)
     */
    public T decode(byte[] bytes) throws IOException {
        try {
            return decoder.decode(bytes);
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            // Avro reports corrupt bodies as AvroRuntimeException, array bounds or negative sizes.
            throw new IOException("corrupt " + type.getSimpleName() + " record: " + e, e);
        }
    }
}
