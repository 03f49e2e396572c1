package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The float arrays of snapshots and checkpoints: written in chunks, read back whole, in the format they always had. */
class FloatArraysTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 3 * 16 * 1024 + 7})
    void chunkedWritesReadBackAsBigEndianFloatsAfterTheirCount(int length) throws IOException {
        float[] values = new float[length];
        Random random = new Random(length);
        for (int i = 0; i < length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        ExactBytes bytes = new ExactBytes(0);
        FloatArrays.write(new DataOutputStream(bytes), values);
        byte[] written = bytes.bytes();
        assertThat(written).hasSize(Integer.BYTES + length * Float.BYTES);

        DataInputStream plain = new DataInputStream(new ByteArrayInputStream(written));
        assertThat(plain.readInt()).isEqualTo(length);
        for (int i = 0; i < length; i++) {
            assertThat(plain.readFloat()).isEqualTo(values[i]);
        }
        assertThat(FloatArrays.read(new DataInputStream(new ByteArrayInputStream(written)), length, "x"))
                .containsExactly(values);
    }

    @Test
    void aLengthOtherThanTheModelsIsRefusedByName() throws IOException {
        ExactBytes bytes = new ExactBytes(0);
        FloatArrays.write(new DataOutputStream(bytes), new float[3]);
        assertThatThrownBy(() -> FloatArrays.read(new DataInputStream(new ByteArrayInputStream(bytes.bytes())), 4, "moments"))
                .hasMessageContaining("moments has 3 values, this model 4");
    }

    @Test
    void exactBytesHandOutTheirBufferWhenFullAndACopyOtherwise() throws IOException {
        ExactBytes full = new ExactBytes(2048);
        full.write(new byte[2048]);
        byte[] first = full.bytes();
        assertThat(full.bytes()).isSameAs(first).hasSize(2048);

        ExactBytes partly = new ExactBytes(2048);
        partly.write(new byte[] {1, 2, 3});
        assertThat(partly.bytes()).containsExactly(1, 2, 3).isNotSameAs(partly.bytes());

        ExactBytes grown = new ExactBytes(1024);
        grown.write(new byte[1500]);
        assertThat(grown.bytes()).hasSize(1500);
    }
}
