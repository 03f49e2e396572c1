package org.ctrranker.operators.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.ListSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.junit.jupiter.api.Test;

class AvroBytesSerializerTest {

    private static final UserFeedbackSnapshot SNAPSHOT = new UserFeedbackSnapshot(10L,
            List.of(new AlignedClick(new Exposure("a", "c", 5L), List.of(new Exposure("b", "c", 4L)), List.of())),
            List.of(new Exposure("d", "", 9L)), 1L, null);

    @Test
    void aRecordDecodesFromItsBytesAsAFreshEqualRecordAndTheStateBytesAreTheRecordSerializers() throws Exception {
        AvroBytesSerializer<UserFeedbackSnapshot> serializer = AvroBytesSerializer.of(UserFeedbackSnapshot.class);
        byte[] encoded = serializer.encode(SNAPSHOT);
        UserFeedbackSnapshot decoded = serializer.decode(encoded);
        assertThat(decoded).isEqualTo(SNAPSHOT).isNotSameAs(SNAPSHOT);
        assertThat(serializer.decode(encoded)).as("decoded afresh each time").isNotSameAs(decoded).isEqualTo(SNAPSHOT);

        DataOutputSerializer asBytes = new DataOutputSerializer(64);
        serializer.serialize(encoded, asBytes);
        DataOutputSerializer asRecord = new DataOutputSerializer(64);
        new AvroSerializer<>(UserFeedbackSnapshot.class).serialize(SNAPSHOT, asRecord);
        assertThat(asBytes.getCopyOfBuffer()).isEqualTo(asRecord.getCopyOfBuffer());
        assertThat(serializer.deserialize(new DataInputDeserializer(asBytes.getCopyOfBuffer()))).isEqualTo(encoded);

        // what the heap backend does with a key's list while a checkpoint is written out: the arrays are shared
        List<byte[]> state = new ArrayList<>(List.of(encoded));
        assertThat(new ListSerializer<>(serializer).copy(state).get(0)).isSameAs(encoded);
    }

    @Test
    void bytesRestoredInAnOlderSchemaAreReencodedInTheCurrentOne() throws Exception {
        Schema current = DeadLetter.getClassSchema();
        Schema older = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false,
                current.getFields().stream().filter(f -> !f.name().equals("source_offset"))
                        .map(f -> new Schema.Field(f, f.schema())).toList());
        DeadLetter letter = DeadLetter.newBuilder().setSourceTopic("ad-clicks").setSourcePartition(3)
                .setSourceOffset(-1L).setStage("decode").setReason("r").setFailedAtMs(7L).build();
        AvroSerializer<DeadLetter> olderRecords = new AvroSerializer<>(DeadLetter.class, older, true);
        TypeSerializerSnapshot<byte[]> olderSnapshot = roundTrip(new AvroBytesSerializer<>(olderRecords).snapshotConfiguration());
        AvroBytesSerializer<DeadLetter> now = AvroBytesSerializer.of(DeadLetter.class);
        assertThat(now.snapshotConfiguration().resolveSchemaCompatibility(olderSnapshot).isCompatibleAfterMigration()).isTrue();
        assertThat(now.snapshotConfiguration().resolveSchemaCompatibility(roundTrip(now.snapshotConfiguration()))
                .isCompatibleAsIs()).isTrue();

        // bytes as the older schema wrote them (a writer of that schema drops the newer field)
        DataOutputSerializer olderState = new DataOutputSerializer(64);
        org.apache.avro.generic.GenericRecord record = new org.apache.avro.generic.GenericData.Record(older);
        for (Schema.Field field : older.getFields()) {
            record.put(field.name(), letter.get(field.name()));
        }
        java.io.ByteArrayOutputStream avro = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().directBinaryEncoder(avro, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(older).write(record, encoder);
        encoder.flush();
        olderState.writeInt(avro.size());
        olderState.write(avro.toByteArray());

        TypeSerializer<byte[]> restored = olderSnapshot.restoreSerializer();
        byte[] migrated = restored.deserialize(new DataInputDeserializer(olderState.getCopyOfBuffer()));
        assertThat(migrated).isEqualTo(now.encode(letter)).isNotEqualTo(avro.toByteArray());
        assertThat(now.decode(migrated).getSourcePartition()).isEqualTo(3);
    }

    private static <T> TypeSerializerSnapshot<T> roundTrip(TypeSerializerSnapshot<T> snapshot) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(256);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return TypeSerializerSnapshot.readVersionedSnapshot(new DataInputDeserializer(out.getCopyOfBuffer()),
                AvroBytesSerializerTest.class.getClassLoader());
    }
}
