package org.ctrranker.operators.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.ArrayListSerializer;
import org.ctrranker.operators.scoring.ModelUpdate;
import org.junit.jupiter.api.Test;

class SharedValueSerializerTest {

    private static final TypeSerializer<ModelUpdate> POJO =
            TypeInformation.of(ModelUpdate.class).createSerializer(new SerializerConfigImpl());

    private static ModelUpdate update(long version) {
        ModelUpdate u = new ModelUpdate();
        u.modelName = "ctr";
        u.version = version;
        u.parameters = new byte[] {1, 2, 3, (byte) version};
        u.holdoutAuc = 0.7;
        return u;
    }

    private static byte[] bytes(TypeSerializer<ModelUpdate> serializer, ModelUpdate u) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(u, out);
        return out.getCopyOfBuffer();
    }

    @Test
    void theListCopyOfACheckpointSharesTheValuesAndTheBytesAreTheWrappedFormats() throws Exception {
        SharedValueSerializer<ModelUpdate> shared = new SharedValueSerializer<>(POJO);
        List<ModelUpdate> state = new ArrayList<>(List.of(update(1), update(2)));
        // what Flink's operator state does on the task thread at every checkpoint
        List<ModelUpdate> copy = new ArrayListSerializer<>(shared).copy(new ArrayList<>(state));
        assertThat(copy).hasSize(2);
        assertThat(copy.get(0)).isSameAs(state.get(0));
        assertThat(copy.get(1).parameters).isSameAs(state.get(1).parameters);
        assertThat(new ArrayListSerializer<>(POJO).copy(new ArrayList<>(state)).get(0)).as("the plain POJO serializer copies")
                .isNotSameAs(state.get(0));

        byte[] written = bytes(shared, update(3));
        assertThat(written).isEqualTo(bytes(POJO, update(3)));
        ModelUpdate read = shared.deserialize(new DataInputDeserializer(written));
        assertThat(read.parameters).containsExactly(1, 2, 3, 3);
        assertThat(read.version).isEqualTo(3);
    }

    @Test
    void itsSnapshotRestoresItAndStateWrittenWithoutTheWrapperRestoresAsItWas() throws Exception {
        SharedValueSerializer<ModelUpdate> shared = new SharedValueSerializer<>(POJO);
        DataOutputSerializer out = new DataOutputSerializer(256);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, shared.snapshotConfiguration());
        TypeSerializerSnapshot<ModelUpdate> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertThat(read.restoreSerializer()).isEqualTo(shared);
        assertThat(shared.snapshotConfiguration().resolveSchemaCompatibility(read).isCompatibleAsIs()).isTrue();

        // a checkpoint taken before the wrapper: the POJO serializer's snapshot, the same bytes
        TypeSerializerSnapshot<ModelUpdate> before = POJO.snapshotConfiguration();
        assertThat(shared.snapshotConfiguration().resolveSchemaCompatibility(before).isCompatibleAsIs()).isTrue();
        assertThat(new SharedValueSerializer<>(TypeInformation.of(String.class).createSerializer(new SerializerConfigImpl()))
                .snapshotConfiguration().resolveSchemaCompatibility((TypeSerializerSnapshot) before).isIncompatible())
                .as("another format stays incompatible").isTrue();
    }
}
