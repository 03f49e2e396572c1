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
import org.junit.jupiter.api.Test;

/** Arrays as the rows that differ from a base: written only when smaller, read back over the base, checked first. */
class ChangedRowsTest {

    private static final int ROWS = 40_000;
    private static final int ROW = 4;

    private static float[] gaussian(int n, long seed) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static byte[] written(ChangedRows.Changes changes) throws IOException {
        ExactBytes bytes = new ExactBytes(0);
        ChangedRows.write(new DataOutputStream(bytes), changes);
        byte[] out = bytes.bytes();
        assertThat((long) out.length).as("the size planned before writing").isEqualTo(changes.bytes());
        return out;
    }

    private static DataInputStream in(byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }

    /** Rows changed in several chunks (one of 16,384 floats holds 4,096 rows), the first and the last among them. */
    @Test
    void aNativeArrayWithFewChangedRowsIsWrittenAsThoseRowsAndReadBackOverTheBase() throws IOException {
        float[] base = gaussian(ROWS * ROW, 1);
        int[] changedRows = {0, 4_095, 4_096, 17_000, ROWS - 1};
        float[] values = base.clone();
        for (int r : changedRows) {
            values[r * ROW + 2] += 1f;
        }
        values[5 * ROW] = -0f; // a sign is a change too: rows are compared bit for bit
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray array = manager.create(values, new Shape(ROWS, ROW));
            ChangedRows.Changes changes = ChangedRows.of(array, base);
            assertThat(changes.changed()).containsExactly(0, 5, 4_095, 4_096, 17_000, ROWS - 1);
            assertThat(changes.sparse()).isTrue();
            byte[] bytes = written(changes);
            assertThat(bytes.length).isLessThan(6 * (Integer.BYTES + ROW * Float.BYTES) + 32);

            assertThat(ChangedRows.skip(in(bytes), ROWS * ROW, ROWS, "x")).isEqualTo(ChangedRows.ROWS);
            NDArray target = manager.create(gaussian(ROWS * ROW, 2), new Shape(ROWS, ROW));
            ChangedRows.readInto(in(bytes), target, base, "x");
            assertThat(target.toFloatArray()).containsExactly(values);
            float[] javaTarget = new float[ROWS * ROW];
            ChangedRows.readInto(in(bytes), javaTarget, base, "x");
            assertThat(javaTarget).containsExactly(values);
        }
    }

    @Test
    void anArrayWithMostRowsChangedIsWrittenWholeInTheDenseLayout() throws IOException {
        float[] values = gaussian(1000, 3);
        values[7] = 0f;
        ChangedRows.Changes changes = ChangedRows.of(values, null);
        assertThat(changes.changed()).hasSize(999);
        assertThat(changes.sparse()).isFalse();
        byte[] bytes = written(changes);
        assertThat(bytes[0]).isEqualTo(ChangedRows.ALL);
        float[] read = new float[1000];
        FloatArrays.readInto(in(java.util.Arrays.copyOfRange(bytes, 1, bytes.length)), read, "x");
        assertThat(read).containsExactly(values);
        float[] again = new float[1000];
        ChangedRows.readInto(in(bytes), again, null, "x");
        assertThat(again).containsExactly(values);
    }

    @Test
    void malformedRowsAreRefusedByName() throws IOException {
        assertThatThrownBy(() -> ChangedRows.skip(in(rows(10, 1, new int[] {3, 2})), 10, 10, "moments"))
                .hasMessageContaining("moments: changed row 2 after row 3");
        assertThatThrownBy(() -> ChangedRows.skip(in(rows(10, 1, new int[] {10})), 10, 10, "moments"))
                .hasMessageContaining("changed row 10 after row -1 of 10");
        assertThatThrownBy(() -> ChangedRows.skip(in(rows(10, 2, new int[] {1})), 10, 10, "moments"))
                .hasMessageContaining("do not fit its 10 rows");
        assertThatThrownBy(() -> ChangedRows.skip(in(rows(12, 1, new int[] {1})), 10, 10, "moments"))
                .hasMessageContaining("moments has 12 values, this model 10");
        byte[] unknown = rows(10, 1, new int[] {1});
        unknown[0] = 7;
        assertThatThrownBy(() -> ChangedRows.skip(in(unknown), 10, 10, "moments")).hasMessageContaining("tag 7");
        byte[] truncated = rows(10, 1, new int[] {1, 2});
        assertThatThrownBy(() -> ChangedRows.skip(in(java.util.Arrays.copyOf(truncated, truncated.length - 1)), 10, 10, "x"))
                .isInstanceOf(java.io.EOFException.class);
    }

    /** The ROWS layout by hand: tag, value count, row size, changed rows, then each index and its values (ones). */
    private static byte[] rows(int values, int rowSize, int[] indices) throws IOException {
        ExactBytes bytes = new ExactBytes(0);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(ChangedRows.ROWS);
        out.writeInt(values);
        out.writeInt(rowSize);
        out.writeInt(indices.length);
        for (int index : indices) {
            out.writeInt(index);
            for (int j = 0; j < rowSize; j++) {
                out.writeFloat(1f);
            }
        }
        return bytes.bytes();
    }
}
