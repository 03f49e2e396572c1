package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The float arrays of snapshots and checkpoints: written and read in chunks, in the format they always had. */
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
        float[] read = new float[length];
        FloatArrays.readInto(new DataInputStream(new ByteArrayInputStream(written)), read, "x");
        assertThat(read).containsExactly(values);
    }

    @Test
    void aLengthOtherThanTheModelsIsRefusedByName() throws IOException {
        ExactBytes bytes = new ExactBytes(0);
        FloatArrays.write(new DataOutputStream(bytes), new float[3]);
        assertThatThrownBy(() -> FloatArrays.readInto(new DataInputStream(new ByteArrayInputStream(bytes.bytes())), new float[4], "moments"))
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

    /** Shapes around the chunk of 16,384 floats: rows that split evenly, a last short chunk, a row longer than a chunk. */
    static long[][] shapes() {
        return new long[][] {{}, {1}, {7}, {16 * 1024 + 3}, {2 * 1024 + 5, 16}, {3, 16 * 1024 + 5}, {40, 3, 5}};
    }

    @Test
    void nativeArraysAreWrittenAsTheirJavaCopiesAreAndReadBackInPlace() throws IOException {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            for (long[] dims : shapes()) {
                Shape shape = new Shape(dims);
                Random random = new Random(shape.size());
                float[] values = new float[(int) shape.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian();
                }
                NDArray array = manager.create(values, shape);
                ExactBytes fromNative = new ExactBytes(0);
                FloatArrays.write(new DataOutputStream(fromNative), array);
                ExactBytes fromJava = new ExactBytes(0);
                FloatArrays.write(new DataOutputStream(fromJava), values);
                assertThat(fromNative.bytes()).as("shape %s", shape).isEqualTo(fromJava.bytes());

                NDArray target = manager.zeros(shape);
                // a network's parameter, read on a new thread as a Flink task's: see CtrModelTest.onNewThread
                target.setRequiresGradient(true);
                byte[] written = fromNative.bytes();
                CtrModelTest.onNewThread(() -> {
                    try {
                        FloatArrays.readInto(new DataInputStream(new ByteArrayInputStream(written)), target, "x");
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                assertThat(target.getShape()).isEqualTo(shape);
                assertThat(target.toFloatArray()).as("shape %s", shape).containsExactly(values);

                float[] javaTarget = new float[values.length];
                FloatArrays.readInto(new DataInputStream(new ByteArrayInputStream(fromJava.bytes())), javaTarget, "x");
                assertThat(javaTarget).containsExactly(values);
            }
        }
    }

    @Test
    void readingIntoAnArrayOfAnotherLengthIsRefusedByName() throws IOException {
        ExactBytes bytes = new ExactBytes(0);
        FloatArrays.write(new DataOutputStream(bytes), new float[3]);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray target = manager.zeros(new Shape(2, 2));
            assertThatThrownBy(() -> FloatArrays.readInto(new DataInputStream(new ByteArrayInputStream(bytes.bytes())),
                    target, "parameter w")).hasMessageContaining("parameter w has 3 values, this model 4");
        }
        assertThatThrownBy(() -> FloatArrays.readInto(new DataInputStream(new ByteArrayInputStream(bytes.bytes())),
                new float[2], "the wide part")).hasMessageContaining("the wide part has 3 values, this model 2");
    }
}
