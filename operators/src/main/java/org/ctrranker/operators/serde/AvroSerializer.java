package org.ctrranker.operators.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.ctrranker.schemas.AvroModels;

/**
 * Avro binary serializer of one generated record class. Reads bytes written with {@code writerSchema}
 * (the class's own schema, or an older one when state is restored) into the current class.
 *
 * <p>Each record is written as its length and then its Avro bytes, encoded and decoded in memory: Avro's
 * buffered codecs are several times faster than streaming byte by byte through a Flink data view, and
 * the length lets {@link #copy(DataInputView, DataOutputView)} move a record without decoding it. State
 * written by the first format (no length, see {@link AvroSerializerSnapshot}) is still read on restore.
 * Not thread-safe: Flink duplicates it per thread.
 */
public final class AvroSerializer<T extends SpecificRecord> extends TypeSerializer<T> {

    private static final long serialVersionUID = 2L;

    private final Class<T> type;
    private final String writerSchemaJson;
    private final boolean lengthPrefixed;

    private transient Schema schema;
    private transient SpecificDatumWriter<T> writer;
    private transient SpecificDatumReader<T> reader;
    private transient BinaryEncoder encoder;
    private transient BinaryDecoder decoder;
    private transient ExposedByteArrayOutputStream buffer;
    private transient byte[] readBuffer;
    private transient ViewInputStream in;

    AvroSerializer(Class<T> type) {
        this(type, null, true);
    }

    AvroSerializer(Class<T> type, Schema writerSchema, boolean lengthPrefixed) {
        this.type = type;
        this.writerSchemaJson = writerSchema == null ? null : writerSchema.toString();
        this.lengthPrefixed = lengthPrefixed;
    }

    Class<T> type() {
        return type;
    }

    Schema schema() {
        if (schema == null) {
            schema = SpecificData.get().getSchema(type);
        }
        return schema;
    }

    Schema writerSchema() {
        return writerSchemaJson == null ? schema() : new Schema.Parser().parse(writerSchemaJson);
    }

    boolean lengthPrefixed() {
        return lengthPrefixed;
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new AvroSerializer<>(type, writerSchemaJson == null ? null : writerSchema(), lengthPrefixed);
    }

    @Override
    public T createInstance() {
        return type.cast(SpecificData.newInstance(type, schema()));
    }

    @Override
    public T copy(T from) {
        return from == null ? null : SpecificData.getForClass(type).deepCopy(schema(), from);
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        if (!lengthPrefixed) {
            throw new IllegalStateException("the first Avro state format is read on restore only");
        }
        encodeIntoBuffer(record);
        target.writeInt(buffer.size());
        target.write(buffer.bytes(), 0, buffer.size());
    }

    /** The record's Avro bytes in the current schema, without the state format's length. */
    byte[] encode(T record) throws IOException {
        encodeIntoBuffer(record);
        return java.util.Arrays.copyOf(buffer.bytes(), buffer.size());
    }

    private void encodeIntoBuffer(T record) throws IOException {
        if (writer == null) {
            writer = new SpecificDatumWriter<>(schema(), AvroModels.forWriting(type));
            buffer = new ExposedByteArrayOutputStream();
        }
        buffer.reset();
        encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
        writer.write(record, encoder);
        encoder.flush();
    }

    /** A fresh record from Avro bytes in the writer schema, as {@link #encode} writes them. */
    T decode(byte[] bytes) throws IOException {
        decoder = DecoderFactory.get().binaryDecoder(bytes, decoder);
        return reader().read(null, decoder);
    }

    private SpecificDatumReader<T> reader() {
        if (reader == null) {
            reader = new SpecificDatumReader<>(writerSchema(), schema(), SpecificData.getForClass(type));
        }
        return reader;
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        // Always a fresh record: operators keep inputs in heap state, so reusing one would corrupt it.
        return deserialize(source);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        if (lengthPrefixed) {
            int length = source.readInt();
            if (readBuffer == null || readBuffer.length < length) {
                readBuffer = new byte[Math.max(length, 256)];
            }
            source.readFully(readBuffer, 0, length);
            decoder = DecoderFactory.get().binaryDecoder(readBuffer, 0, length, decoder);
        } else {
            if (in == null) {
                in = new ViewInputStream();
            }
            in.source = source;
            decoder = DecoderFactory.get().directBinaryDecoder(in, decoder);
        }
        return reader().read(null, decoder);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        if (!lengthPrefixed) {
            throw new IllegalStateException("the first Avro state format is read on restore only");
        }
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new AvroSerializerSnapshot<>(type, writerSchema(), lengthPrefixed);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroSerializer<?> other && other.type.equals(type) && other.lengthPrefixed == lengthPrefixed
                && java.util.Objects.equals(other.writerSchemaJson, writerSchemaJson);
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    private static final class ExposedByteArrayOutputStream extends ByteArrayOutputStream {
        ExposedByteArrayOutputStream() {
            super(256);
        }

        byte[] bytes() {
            return buf;
        }
    }

    private static final class ViewInputStream extends InputStream {
        DataInputView source;

        @Override
        public int read() throws IOException {
            try {
                return source.readUnsignedByte();
            } catch (java.io.EOFException e) {
                return -1;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return source.read(b, off, len);
        }
    }
}
