package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class TrainerStateTest {

    private static final TypeSerializer<TrainerState> POJO =
            TypeInformation.of(TrainerState.class).createSerializer(new SerializerConfigImpl());

    private static byte[] bytes(TrainerState s) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(256);
        POJO.serialize(s, out);
        return out.getCopyOfBuffer();
    }

    /** Every field set to a value unlike its default, so a field forCheckpoint leaves out shows in the bytes. */
    private static TrainerState everyFieldSet() throws Exception {
        TrainerState s = TrainerState.fresh(4);
        long n = 11;
        for (Field f : TrainerState.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            Class<?> type = f.getType();
            n++;
            if (type == long.class) {
                f.setLong(s, n);
            } else if (type == int.class) {
                f.setInt(s, (int) n);
            } else if (type == double.class) {
                f.setDouble(s, n / 10.0);
            } else if (type == byte[].class) {
                f.set(s, new byte[] {(byte) n, 7});
            } else if (type != float[].class && type != int[].class) {
                throw new AssertionError("set the new field " + f.getName() + " here");
            }
        }
        s.record(0.25f, 1);
        s.record(0.5f, 0);
        return s;
    }

    @Test
    void whatACheckpointKeepsHasEveryFieldAndNoLaterRecordChangesIt() throws Exception {
        TrainerState live = everyFieldSet();
        TrainerState kept = live.forCheckpoint();
        byte[] atCheckpoint = bytes(live);
        assertThat(bytes(kept)).as("every field").isEqualTo(atCheckpoint);
        assertThat(kept.checkpoint).as("model bytes are shared: they are replaced, never changed").isSameAs(live.checkpoint);

        live.record(0.75f, 1);
        live.record(0.125f, 0);
        live.updateMetrics();
        assertThat(bytes(live)).isNotEqualTo(atCheckpoint);
        assertThat(bytes(kept)).as("training after the checkpoint changes nothing in it").isEqualTo(atCheckpoint);
    }
}
