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
                List.of(new Exposure("d", "", 9L)));
        UserFeedbackSnapshot second = new UserFeedbackSnapshot(11L, List.of(), List.of());
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
        AvroSerializer<DeadLetter> oldSerializer = new AvroSerializer<>(DeadLetter.class, older);
        TypeSerializerSnapshot<DeadLetter> oldSnapshot = oldSerializer.snapshotConfiguration();
        TypeSerializerSnapshot<DeadLetter> newSnapshot = new AvroSerializer<>(DeadLetter.class).snapshotConfiguration();

        assertThat(newSnapshot.resolveSchemaCompatibility(oldSnapshot).isCompatibleAfterMigration()).isTrue();
        assertThat(newSnapshot.resolveSchemaCompatibility(newSnapshot).isCompatibleAsIs()).isTrue();

        // bytes of the old layout: write a generic record with the old schema
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(older);
        old.put("source_topic", "ad-clicks");
        old.put("source_partition", 3);
        old.put("stage", "decode");
        old.put("reason", "r");
        old.put("failed_at_ms", 7L);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(older).write(old, encoder);
        encoder.flush();

        DeadLetter restored = oldSnapshot.restoreSerializer().deserialize(new DataInputDeserializer(out.toByteArray()));
        assertThat(restored.getSourcePartition()).isEqualTo(3);
        assertThat(restored.getSourceOffset()).isEqualTo(-1L);
        assertThat(restored.getFailedAtMs()).isEqualTo(7L);
    }

    @Test
    void anIncompatibleChangeOrAnotherTypeIsRejected() {
        Schema current = AdClick.getClassSchema();
        Schema withRequiredField = Schema.createRecord(current.getName(), null, current.getNamespace(), false,
                List.of(new Schema.Field("only", Schema.create(Schema.Type.STRING), null, (Object) null)));
        TypeSerializerSnapshot<AdClick> old = new AvroSerializer<>(AdClick.class, withRequiredField).snapshotConfiguration();
        TypeSerializerSnapshot<AdClick> now = new AvroSerializer<>(AdClick.class).snapshotConfiguration();
        assertThat(now.resolveSchemaCompatibility(old).isIncompatible()).isTrue();
    }
}
