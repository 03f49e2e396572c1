package org.ctrranker.operators.serde;

import java.io.IOException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Records of one Avro class held in state as their encoded bytes, one array per record, in the class's current
 * schema. A record waiting seconds for the watermark as an object graph (a training sample with its feedback
 * snapshot is hundreds of objects) outlives a young collection and is copied, often into the old generation, where
 * it dies; one array per record is cheap to copy. The state bytes are {@link AvroSerializer}'s, and a schema change
 * migrates them as it does its records: bytes restored in an older schema are re-encoded in the current one.
 * The arrays are never changed once in state, so copies share them. Not thread-safe: Flink duplicates it per thread.
 */
public final class AvroBytesSerializer<T extends SpecificRecord> extends TypeSerializer<byte[]> {

    private static final long serialVersionUID = 1L;

    /** The format the bytes were written in (the current schema, or an older one on restore). */
    private final AvroSerializer<T> format;
    private transient AvroSerializer<T> current;
    private transient Boolean inCurrentSchema;

    AvroBytesSerializer(AvroSerializer<T> format) {
        this.format = format;
    }

    public static <T extends SpecificRecord> AvroBytesSerializer<T> of(Class<T> type) {
        return new AvroBytesSerializer<>(new AvroSerializer<>(type));
    }

    AvroSerializer<T> format() {
        return format;
    }

    private boolean inCurrentSchema() {
        if (inCurrentSchema == null) {
            inCurrentSchema = format.lengthPrefixed() && format.writerSchema().equals(format.schema());
        }
        return inCurrentSchema;
    }

    private AvroSerializer<T> current() {
        if (current == null) {
            current = new AvroSerializer<>(format.type());
        }
        return current;
    }

    /** The record's bytes in the current schema. */
    public byte[] encode(T record) throws IOException {
        return current().encode(record);
    }

    /** A fresh record from bytes {@link #encode} wrote. */
    public T decode(byte[] bytes) throws IOException {
        return current().decode(bytes);
    }

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<byte[]> duplicate() {
        return new AvroBytesSerializer<>((AvroSerializer<T>) format.duplicate());
    }

    @Override
    public byte[] createInstance() {
        return new byte[0];
    }

    @Override
    public byte[] copy(byte[] from) {
        return from;
    }

    @Override
    public byte[] copy(byte[] from, byte[] reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(byte[] record, DataOutputView target) throws IOException {
        target.writeInt(record.length);
        target.write(record);
    }

    @Override
    public byte[] deserialize(DataInputView source) throws IOException {
        if (!inCurrentSchema()) {
            return encode(format.deserialize(source));
        }
        byte[] bytes = new byte[source.readInt()];
        source.readFully(bytes);
        return bytes;
    }

    @Override
    public byte[] deserialize(byte[] reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        format.copy(source, target);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroBytesSerializer<?> other && format.equals(other.format);
    }

    @Override
    public int hashCode() {
        return format.hashCode() * 31 + 2;
    }

    @Override
    public TypeSerializerSnapshot<byte[]> snapshotConfiguration() {
        return new Snapshot<>(this);
    }

    /** The record format's snapshot, nested: its schema decides whether restored bytes are migrated. */
    public static final class Snapshot<T extends SpecificRecord>
            extends CompositeTypeSerializerSnapshot<byte[], AvroBytesSerializer<T>> {

        /** For Flink's reflective instantiation on restore. */
        public Snapshot() {}

        Snapshot(AvroBytesSerializer<T> serializer) {
            super(serializer);
        }

        @Override
        protected int getCurrentOuterSnapshotVersion() {
            return 1;
        }

        @Override
        protected TypeSerializer<?>[] getNestedSerializers(AvroBytesSerializer<T> outer) {
            return new TypeSerializer<?>[] {outer.format()};
        }

        @Override
        @SuppressWarnings("unchecked")
        protected AvroBytesSerializer<T> createOuterSerializerWithNestedSerializers(TypeSerializer<?>[] nested) {
            return new AvroBytesSerializer<>((AvroSerializer<T>) nested[0]);
        }
    }
}
