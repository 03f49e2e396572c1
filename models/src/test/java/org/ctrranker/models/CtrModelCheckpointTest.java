package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The training checkpoint: a model restored from one trains on bit for bit like the model that never
 * stopped, which the serving snapshot alone cannot do; and the optimiser behind it is Adam as DJL computes it.
 */
class CtrModelCheckpointTest {

    @Test
    void aRestoredCheckpointTrainsOnBitForBitLikeTheOriginal() {
        List<Sample> data = CtrModelTest.samples(new Random(21), 7 * 64);
        ModelConfig config = CtrModelTest.small().build();
        try (CtrModel a = CtrModel.create(config); CtrModel b = CtrModel.create(config);
                CtrModel fromSnapshot = CtrModel.create(config)) {
            for (int i = 0; i < 3; i++) {
                a.train(data.subList(i * 64, (i + 1) * 64));
            }
            b.restoreCheckpoint(a.checkpoint());
            fromSnapshot.restore(a.snapshot());
            assertThat(b.snapshot()).isEqualTo(a.snapshot());
            for (int i = 3; i < 7; i++) {
                List<Sample> batch = data.subList(i * 64, (i + 1) * 64);
                assertThat(b.train(batch)).isEqualTo(a.train(batch));
                fromSnapshot.train(batch);
            }
            assertThat(b.snapshot()).isEqualTo(a.snapshot());
            assertThat(b.checkpoint()).isEqualTo(a.checkpoint());
            assertThat(b.predict(data)).containsExactly(a.predict(data));
            assertThat(b.steps()).isEqualTo(7);
            // Without the optimiser state (Adam's moments and step clock restart) training drifts apart.
            assertThat(fromSnapshot.snapshot()).isNotEqualTo(a.snapshot());
        }
    }

    /**
     * A job upgraded from a savepoint of the build before checkpoint format v3 (its moments written whole, a v3
     * snapshot inside) trains on as that build would have: predictions before and after one more step, from the old
     * build, in the test resources.
     */
    @Test
    void aVersion2CheckpointStillRestoresAndTrainsOn() throws java.io.IOException {
        byte[] v2 = CtrModelTest.resource("checkpoint-v2.bin");
        float[][] predictedByTheOldBuild = new float[2][];
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(
                CtrModelTest.resource("checkpoint-v2-predictions.bin")))) {
            for (int k = 0; k < 2; k++) {
                predictedByTheOldBuild[k] = new float[in.readInt()];
                for (int i = 0; i < predictedByTheOldBuild[k].length; i++) {
                    predictedByTheOldBuild[k][i] = in.readFloat();
                }
            }
        }
        assertThat(v2[7]).isEqualTo((byte) 2);
        List<Sample> batch = CtrModelTest.samples(new Random(2), 200); // what the old build trained on and predicted
        try (CtrModel restored = CtrModel.create(CtrModelTest.tiny().seed(99).build())) {
            restored.restoreCheckpoint(v2);
            assertThat(restored.steps()).isEqualTo(5);
            // Within a float's rounding, not to the bit: the kernels round differently on other CPUs of this kind (16 of
            // the 200 predictions an ulp apart on the machine of stop 38).
            assertThat(restored.predict(batch)).containsExactly(predictedByTheOldBuild[0], within(1e-6f));
            restored.train(batch);
            assertThat(restored.predict(batch)).containsExactly(predictedByTheOldBuild[1], within(1e-6f));
            assertThat(restored.checkpoint()[7]).isEqualTo((byte) CtrModel.CHECKPOINT_FORMAT_VERSION).isEqualTo((byte) 4);
        }
    }

    @Test
    void checkpointsAreRefusedWhereTheyCannotLoad() {
        ModelConfig config = CtrModelTest.small().build();
        try (CtrModel a = CtrModel.create(config); CtrModel otherRate = CtrModel.create(CtrModelTest.small().learningRate(0.5f).build());
                CtrModel otherShape = CtrModel.create(CtrModelTest.small().embeddingDim(4).build())) {
            a.train(CtrModelTest.samples(new Random(1), 32));
            byte[] checkpoint = a.checkpoint();
            assertThat(checkpoint.length).isGreaterThan(a.snapshot().length);
            assertThatThrownBy(() -> a.restoreCheckpoint(a.snapshot())).hasMessageContaining("bad magic");
            assertThatThrownBy(() -> otherRate.restoreCheckpoint(checkpoint)).hasMessageContaining("learning rate");
            assertThatThrownBy(() -> otherShape.restoreCheckpoint(checkpoint)).hasMessageContaining("cannot load");
        }
    }

    /** Same kernel and step rule as DJL's Adam: equal to it, and to the textbook update written out here. */
    @Test
    void theOptimiserIsAdamAsDjlComputesIt() {
        float rate = 0.01f;
        Random random = new Random(4);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            float[] start = new float[12];
            for (int i = 0; i < start.length; i++) {
                start[i] = (float) random.nextGaussian();
            }
            NDArray djlWeight = manager.create(start, new Shape(4, 3));
            NDArray ourWeight = manager.create(start, new Shape(4, 3));
            Optimizer djl = Optimizer.adam().optLearningRateTracker(Tracker.fixed(rate)).build();
            CheckpointedAdam ours = new CheckpointedAdam(rate);
            double[] w = new double[12];
            double[] m = new double[12];
            double[] v = new double[12];
            for (int i = 0; i < 12; i++) {
                w[i] = start[i];
            }
            for (int t = 1; t <= 6; t++) {
                float[] g = new float[12];
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) (random.nextGaussian() * (i % 3 + 1));
                }
                try (NDArray g1 = manager.create(g, new Shape(4, 3)); NDArray g2 = manager.create(g, new Shape(4, 3))) {
                    djl.update("w", djlWeight, g1);
                    ours.update("other-id", ourWeight, g2);
                }
                double correction = rate * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t));
                for (int i = 0; i < 12; i++) {
                    m[i] = 0.9 * m[i] + 0.1 * g[i];
                    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                    w[i] -= correction * m[i] / (Math.sqrt(v[i]) + 1e-8);
                }
            }
            float[] djlResult = djlWeight.toFloatArray();
            float[] ourResult = ourWeight.toFloatArray();
            assertThat(ourResult).containsExactly(djlResult);
            for (int i = 0; i < 12; i++) {
                assertThat((double) ourResult[i]).isCloseTo(w[i], within(1e-5));
                assertThat(ourResult[i]).isNotEqualTo(start[i]);
            }
        }
    }

    /**
     * The embedding table's row-wise step against dense Adam on the same gradients: hot rows, rare rows that freeze
     * and come back, steps with over half the table live (the dense path), and rows never given a gradient, which
     * neither moves. The row-wise weights stay within a thousandth of the largest movement (lazy Adam, which steps
     * only the rows with a gradient, is off by most of a rare row's movement).
     */
    @Test
    void theTablesRowWiseStepIsDenseAdamToAThousandth() {
        int rows = 1000;
        int d = 4;
        Random random = new Random(6);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            float[] start = new float[rows * d];
            for (int i = 0; i < start.length; i++) {
                start[i] = (float) random.nextGaussian();
            }
            NDArray dense = manager.create(start, new Shape(rows, d));
            NDArray rowWise = manager.create(start, new Shape(rows, d));
            CheckpointedAdam denseAdam = new CheckpointedAdam(0.01f);
            CheckpointedAdam rowWiseAdam = new CheckpointedAdam(0.01f);
            for (int step = 1; step <= 400; step++) {
                boolean wide = step % 150 == 0;
                float[] g = new float[rows * d];
                List<Long> touched = new java.util.ArrayList<>();
                for (int r = 0; r < 900; r++) {
                    double p = wide ? 0.7 : r < 100 ? 0.5 : 0.01;
                    if (random.nextDouble() < p) {
                        touched.add((long) r);
                        for (int j = 0; j < d; j++) {
                            g[r * d + j] = (float) random.nextGaussian();
                        }
                    }
                }
                try (NDArray g1 = manager.create(g, new Shape(rows, d)); NDArray g2 = manager.create(g, new Shape(rows, d))) {
                    denseAdam.update("table", dense, g1);
                    rowWiseAdam.updateRows("table", rowWise, g2, touched.stream().mapToLong(Long::longValue).toArray());
                }
            }
            float[] a = dense.toFloatArray();
            float[] b = rowWise.toFloatArray();
            double largestMove = 0;
            double largestDifference = 0;
            for (int i = 0; i < a.length; i++) {
                largestMove = Math.max(largestMove, Math.abs(a[i] - start[i]));
                largestDifference = Math.max(largestDifference, Math.abs(a[i] - b[i]));
                if (i >= 900 * d) {
                    assertThat(b[i]).isEqualTo(start[i]);
                    assertThat(a[i]).isEqualTo(start[i]);
                }
            }
            assertThat(largestMove).isGreaterThan(0.5);
            assertThat(largestDifference).isLessThan(1e-3 * largestMove);
        }
    }
}
