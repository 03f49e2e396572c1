package org.ctrranker.operators.serde;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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

/**
 * Avro binary serializer of one generated record class. Reads bytes written with {@code writerSchema}
 * (the class's own schema, or an older one when state is restored) into the current class.
 * Not thread-safe: Flink duplicates it per thread.
 */
public final class AvroSerializer<T extends SpecificRecord> extends TypeSerializer<T> {

    private static final long serialVersionUID = 1L;

    private final Class<T> type;
    private final String writerSchemaJson;

    private transient Schema schema;
    private transient SpecificDatumWriter<T> writer;
    private transient SpecificDatumReader<T> reader;
    private transient BinaryEncoder encoder;
    private transient BinaryDecoder decoder;
    private transient ViewOutputStream out;
    private transient ViewInputStream in;

    AvroSerializer(Class<T> type) {
        this(type, null);
    }

    AvroSerializer(Class<T> type, Schema writerSchema) {
        this.type = type;
        this.writerSchemaJson = writerSchema == null ? null : writerSchema.toString();
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

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new AvroSerializer<>(type, writerSchemaJson == null ? null : writerSchema());
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
        if (writer == null) {
            writer = new SpecificDatumWriter<>(schema(), SpecificData.getForClass(type));
            out = new ViewOutputStream();
        }
        out.target = target;
        encoder = EncoderFactory.get().directBinaryEncoder(out, encoder);
        writer.write(record, encoder);
        encoder.flush();
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        // Always a fresh record: operators keep inputs in heap state, so reusing one would corrupt it.
        return deserialize(source);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        if (reader == null) {
            reader = new SpecificDatumReader<>(writerSchema(), schema(), SpecificData.getForClass(type));
            in = new ViewInputStream();
        }
        in.source = source;
        decoder = DecoderFactory.get().directBinaryDecoder(in, decoder);
        return reader.read(null, decoder);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new AvroSerializerSnapshot<>(type, writerSchema());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AvroSerializer<?> other && other.type.equals(type)
                && java.util.Objects.equals(other.writerSchemaJson, writerSchemaJson);
    }

    @Override
    public int hashCode() {
        return type.hashCode();
    }

    private static final class ViewOutputStream extends OutputStream {
        DataOutputView target;

        @Override
        public void write(int b) throws IOException {
            target.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            target.write(b, off, len);
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
