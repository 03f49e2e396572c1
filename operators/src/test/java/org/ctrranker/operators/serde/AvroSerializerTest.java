package org.ctrranker.operators.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.events.AlignedClick;
import org.junit.jupiter.api.Test;

class AvroSerializerTest {

    @Test
    void roundTripsNestedRecordsBackToBack() throws Exception {
        TypeSerializer<UserFeedbackSnapshot> serializer =
                AvroTypeInfo.forRecord(UserFeedbackSnapshot.class).createSerializer(new SerializerConfigImpl());
        UserFeedbackSnapshot first = new UserFeedbackSnapshot(10L,
                List.of(new AlignedClick(new Exposure("a", "c", 5L), List.of(new Exposure("b", "c", 4L)), List.of())),
                List.of(new Exposure("d", "", 9L)), 1L, null);
        UserFeedbackSnapshot second = new UserFeedbackSnapshot(11L, List.of(), List.of(), 0L, null);
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(first, out);
        serializer.serialize(second, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        assertThat(serializer.deserialize(in)).isEqualTo(first);
        assertThat(serializer.deserialize(in)).isEqualTo(second);
        assertThat(in.available()).isZero();

        UserFeedbackSnapshot copy = serializer.copy(first);
        assertThat(copy).isEqualTo(first).isNotSameAs(first);
    }

    @Test
    void stateWrittenWithAnOlderSchemaMigratesToTheCurrentOne() throws Exception {
        Schema current = DeadLetter.getClassSchema();
        Schema older = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false,
                current.getFields().stream().filter(f -> !f.name().equals("source_offset"))
                        .map(f -> new Schema.Field(f, f.schema())).toList());
        AvroSerializer<DeadLetter> oldSerializer = new AvroSerializer<>(DeadLetter.class, older, true);
        TypeSerializerSnapshot<DeadLetter> oldSnapshot = oldSerializer.snapshotConfiguration();
        TypeSerializerSnapshot<DeadLetter> newSnapshot = new AvroSerializer<>(DeadLetter.class).snapshotConfiguration();

        assertThat(newSnapshot.resolveSchemaCompatibility(oldSnapshot).isCompatibleAfterMigration()).isTrue();
        assertThat(newSnapshot.resolveSchemaCompatibility(newSnapshot).isCompatibleAsIs()).isTrue();

        byte[] oldBytes = avroBytes(older);
        DataOutputSerializer state = new DataOutputSerializer(64);
        state.writeInt(oldBytes.length);
        state.write(oldBytes);

        DeadLetter restored = oldSnapshot.restoreSerializer().deserialize(new DataInputDeserializer(state.getCopyOfBuffer()));
        assertThat(restored.getSourcePartition()).isEqualTo(3);
        assertThat(restored.getSourceOffset()).isEqualTo(-1L);
        assertThat(restored.getFailedAtMs()).isEqualTo(7L);
    }

    @Test
    void stateOfTheFirstFormatWithoutLengthsIsReadAndMigrated() throws Exception {
        Schema current = DeadLetter.getClassSchema();
        DataOutputSerializer firstSnapshot = new DataOutputSerializer(256);
        firstSnapshot.writeUTF(DeadLetter.class.getName());
        byte[] schema = current.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        firstSnapshot.writeInt(schema.length);
        firstSnapshot.write(schema);
        AvroSerializerSnapshot<DeadLetter> restoredSnapshot = new AvroSerializerSnapshot<>();
        restoredSnapshot.readSnapshot(1, new DataInputDeserializer(firstSnapshot.getCopyOfBuffer()),
                getClass().getClassLoader());

        TypeSerializerSnapshot<DeadLetter> now = new AvroSerializer<>(DeadLetter.class).snapshotConfiguration();
        assertThat(now.resolveSchemaCompatibility(restoredSnapshot).isCompatibleAfterMigration()).isTrue();

        byte[] first = avroBytes(current);
        byte[] twoRecords = new byte[2 * first.length];
        System.arraycopy(first, 0, twoRecords, 0, first.length);
        System.arraycopy(first, 0, twoRecords, first.length, first.length);
        TypeSerializer<DeadLetter> legacy = restoredSnapshot.restoreSerializer();
        DataInputDeserializer in = new DataInputDeserializer(twoRecords);
        assertThat(legacy.deserialize(in).getFailedAtMs()).isEqualTo(7L);
        assertThat(legacy.deserialize(in).getSourcePartition()).isEqualTo(3);
        assertThat(in.available()).isZero();
    }

    @Test
    void copiesSerializedRecordsWithoutDecodingThem() throws Exception {
        TypeSerializer<AdClick> serializer = AvroTypeInfo.forRecord(AdClick.class).createSerializer(new SerializerConfigImpl());
        AdClick click = AdClick.newBuilder().setClickId("k").setImpressionId("i").setUserId("u")
                .setAdId("ad").setClickTimeMs(5L).build();
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(click, out);
        serializer.serialize(click, out);
        DataOutputSerializer copied = new DataOutputSerializer(64);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        serializer.copy(in, copied);
        serializer.copy(in, copied);
        assertThat(copied.getCopyOfBuffer()).isEqualTo(out.getCopyOfBuffer());
        DataInputDeserializer back = new DataInputDeserializer(copied.getCopyOfBuffer());
        assertThat(serializer.deserialize(back)).isEqualTo(click);
        assertThat(serializer.deserialize(back)).isEqualTo(click);
    }

    /** A dead letter written with {@code schema} in plain Avro binary, as the first state format held it. */
    private static byte[] avroBytes(Schema schema) throws java.io.IOException {
        org.apache.avro.generic.GenericRecord record = new org.apache.avro.generic.GenericData.Record(schema);
        record.put("source_topic", "ad-clicks");
        record.put("source_partition", 3);
        record.put("stage", "decode");
        record.put("reason", "r");
        record.put("failed_at_ms", 7L);
        for (Schema.Field field : schema.getFields()) {
            if (record.get(field.name()) == null && field.hasDefaultValue()) {
                record.put(field.name(), org.apache.avro.generic.GenericData.get().getDefaultValue(field));
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @Test
    void anIncompatibleChangeOrAnotherTypeIsRejected() {
        Schema current = AdClick.getClassSchema();
        Schema withRequiredField = Schema.createRecord(current.getName(), null, current.getNamespace(), false,
                List.of(new Schema.Field("only", Schema.create(Schema.Type.STRING), null, (Object) null)));
        TypeSerializerSnapshot<AdClick> old = new AvroSerializer<>(AdClick.class, withRequiredField, true).snapshotConfiguration();
        TypeSerializerSnapshot<AdClick> now = new AvroSerializer<>(AdClick.class).snapshotConfiguration();
        assertThat(now.resolveSchemaCompatibility(old).isIncompatible()).isTrue();
    }
}
