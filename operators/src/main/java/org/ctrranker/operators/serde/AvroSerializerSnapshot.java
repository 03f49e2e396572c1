package org.ctrranker.operators.serde;

import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Remembers the record class and the schema state was written with, so a job restored after a
 * backward-compatible schema change migrates its state instead of failing. Version 1 snapshots belong
 * to state written without record lengths; such state is migrated to the current format on restore.
 */
public final class AvroSerializerSnapshot<T extends SpecificRecord> implements TypeSerializerSnapshot<T> {

    private static final int VERSION = 2;
    private static final int FIRST_VERSION = 1;

    private Class<T> type;
    private Schema writerSchema;
    private boolean lengthPrefixed;

    /** For Flink's reflective instantiation on restore. */
    public AvroSerializerSnapshot() {}

    AvroSerializerSnapshot(Class<T> type, Schema writerSchema, boolean lengthPrefixed) {
        this.type = type;
        this.writerSchema = writerSchema;
        this.lengthPrefixed = lengthPrefixed;
    }

    @Override
    public int getCurrentVersion() {
        return VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
        if (!lengthPrefixed) {
            throw new IllegalStateException("a snapshot of the first Avro state format is never written again");
        }
        out.writeUTF(type.getName());
        byte[] schema = writerSchema.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(schema.length);
        out.write(schema);
    }

    @Override
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader) throws IOException {
        if (readVersion != VERSION && readVersion != FIRST_VERSION) {
            throw new IOException("unknown Avro serializer snapshot version " + readVersion);
        }
        lengthPrefixed = readVersion != FIRST_VERSION;
        String className = in.readUTF();
        try {
            @SuppressWarnings("unchecked")
            Class<T> restored = (Class<T>) Class.forName(className, false, classLoader);
            type = restored;
        } catch (ClassNotFoundException e) {
            throw new IOException("cannot load " + className + " to restore its state", e);
        }
        byte[] schema = new byte[in.readInt()];
        in.readFully(schema);
        writerSchema = new Schema.Parser().parse(new String(schema, java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public TypeSerializer<T> restoreSerializer() {
        return new AvroSerializer<>(type, writerSchema, lengthPrefixed);
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> oldSnapshot) {
        if (!(oldSnapshot instanceof AvroSerializerSnapshot<T> old) || !old.type.getName().equals(type.getName())) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        if (!old.lengthPrefixed) {
            return TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
        if (old.writerSchema.equals(writerSchema)) {
            return TypeSerializerSchemaCompatibility.compatibleAsIs();
        }
        SchemaCompatibility.SchemaCompatibilityType result =
                SchemaCompatibility.checkReaderWriterCompatibility(writerSchema, old.writerSchema).getType();
        return result == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE
                ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                : TypeSerializerSchemaCompatibility.incompatible();
    }
}
