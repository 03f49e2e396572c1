package org.ctrranker.models.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Tem4CtrBlockTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void projectionEqualsItsDefinitionOnRandomInputs() {
        Random random = new Random(3);
        int b = 5;
        int d = 7;
        float[] a = new float[b * d];
        float[] c = new float[b * d];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
            c[i] = (float) random.nextGaussian();
        }
        // one all-zero click: the projection must be 0, not NaN
        for (int j = 0; j < d; j++) {
            c[4 * d + j] = 0;
        }
        float[] got = Tem4CtrBlock.project(manager.create(a, new Shape(b, d)), manager.create(c, new Shape(b, d))).toFloatArray();
        for (int i = 0; i < b; i++) {
            double dot = 0;
            double norm = 0;
            for (int j = 0; j < d; j++) {
                dot += a[i * d + j] * c[i * d + j];
                norm += c[i * d + j] * c[i * d + j];
            }
            for (int j = 0; j < d; j++) {
                double expected = dot / (norm + 1e-12) * c[i * d + j];
                assertThat((double) got[i * d + j]).isCloseTo(expected, within(1e-4));
            }
            // what is left of a is orthogonal to c
            double residualDot = 0;
            for (int j = 0; j < d; j++) {
                residualDot += (a[i * d + j] - got[i * d + j]) * c[i * d + j];
            }
            assertThat(residualDot).isCloseTo(0, within(1e-4));
        }
    }

    @Test
    void projectionGradientMatchesFiniteDifferences() {
        float[] a = {0.3f, -1.2f, 0.5f};
        float[] c = {1.0f, 0.4f, -0.7f};
        NDArray av = manager.create(a);
        NDArray cv = manager.create(c);
        av.setRequiresGradient(true);
        cv.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray out = Tem4CtrBlock.project(av, cv).sum();
            collector.backward(out);
        }
        float[] gradA = av.getGradient().toFloatArray();
        float[] gradC = cv.getGradient().toFloatArray();
        double eps = 1e-3;
        for (int i = 0; i < 3; i++) {
            assertThat((double) gradA[i]).isCloseTo(numeric(a, c, i, true, eps), within(2e-3));
            assertThat((double) gradC[i]).isCloseTo(numeric(a, c, i, false, eps), within(2e-3));
        }
    }

    private static double numeric(float[] a, float[] c, int i, boolean wrtA, double eps) {
        return (sumProjection(a, c, i, wrtA, eps) - sumProjection(a, c, i, wrtA, -eps)) / (2 * eps);
    }

    private static double sumProjection(float[] a, float[] c, int i, boolean wrtA, double delta) {
        double[] x = new double[3];
        double[] y = new double[3];
        for (int j = 0; j < 3; j++) {
            x[j] = a[j] + (wrtA && j == i ? delta : 0);
            y[j] = c[j] + (!wrtA && j == i ? delta : 0);
        }
        double dot = x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
        double norm = y[0] * y[0] + y[1] * y[1] + y[2] * y[2];
        return dot / norm * (y[0] + y[1] + y[2]);
    }

    /**
     * The attentions score only the real positions (packed); the definition scores all L x K slots and all L clicks
     * and masks the padded ones. Both must agree, values and every parameter's gradient, on ragged histories: users
     * with 0 to L clicks, clicks with 0 to K aligned unclicks, more real positions than one padded call of 16 rows.
     */
    @Test
    void attentionsEqualTheirMaskedDefinitionsOverEveryPosition() {
        int n = 4;
        int l = 5;
        int k = 6;
        int d = 8;
        Tem4CtrBlock block = initializedBlock(d);
        ParameterStore store = new ParameterStore(manager, false);
        Random random = new Random(17);
        int[] clicksPerUser = {0, 5, 2, 3};
        float[] clickMaskValues = new float[n * l];
        float[] unclickMaskValues = new float[n * l * k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < clicksPerUser[i]; j++) {
                clickMaskValues[i * l + j] = 1;
                int slots = j == 1 ? 0 : 1 + random.nextInt(k);
                for (int s = 0; s < slots; s++) {
                    unclickMaskValues[(i * l + j) * k + s] = 1;
                }
            }
        }
        NDArray clickMask = manager.create(clickMaskValues, new Shape(n, l));
        NDArray unclickMask = manager.create(unclickMaskValues, new Shape(n, l, k));
        NDArray target = manager.randomNormal(new Shape(n, d));
        NDArray clicks = manager.randomNormal(new Shape(n, l, d)).mul(clickMask.expandDims(-1));
        NDArray unclicks = manager.randomNormal(new Shape(n, l, k, d)).mul(unclickMask.expandDims(-1));

        NDArray packed;
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            packed = block.forward(store, new NDList(target, clicks, unclicks, clickMask, unclickMask), true)
                    .singletonOrThrow();
            collector.backward(packed.sum());
        }
        List<float[]> packedGradients = gradients(block);
        NDArray definition;
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray alpha = definitionWeights(store, child(block, "aggregation"), clicks.expandDims(2).repeat(2, k),
                    unclicks, unclickMask);
            NDArray aggregated = unclicks.mul(alpha).sum(new int[] {2});
            NDArray enhanced = clicks.add(Tem4CtrBlock.project(aggregated, clicks));
            NDArray query = target.expandDims(1).repeat(1, l);
            NDArray vClick = enhanced.mul(definitionWeights(store, child(block, "click_attention"), query, enhanced,
                    clickMask)).sum(new int[] {1});
            NDArray vUnclick = aggregated.mul(definitionWeights(store, child(block, "unclick_attention"), query,
                    aggregated, clickMask)).sum(new int[] {1});
            definition = vClick.concat(vUnclick, -1);
            collector.backward(definition.sum());
        }
        List<float[]> definitionGradients = gradients(block);

        assertThat(packed.sub(definition).abs().max().getFloat()).isLessThan(1e-5f);
        assertThat(definition.get(0).abs().sum().getFloat()).as("a user without clicks pools nothing").isEqualTo(0f);
        assertThat(definition.abs().sum().getFloat()).isGreaterThan(0f);
        assertThat(packedGradients).hasSameSizeAs(definitionGradients);
        for (int i = 0; i < packedGradients.size(); i++) {
            float[] expected = definitionGradients.get(i);
            for (int j = 0; j < expected.length; j++) {
                assertThat(packedGradients.get(i)[j]).isCloseTo(expected[j], within(1e-4f));
            }
        }
    }

    /** Softmax over the last axis of MLP([q, k, q-k, q*k]) at every position, the padded ones pushed to -1e9. */
    private static NDArray definitionWeights(ParameterStore store, Mlp mlp, NDArray query, NDArray keys, NDArray mask) {
        NDArray features = query.concat(keys, -1).concat(query.sub(keys), -1).concat(query.mul(keys), -1);
        NDArray scores = mlp.apply(store, features, true).squeeze(-1).add(mask.sub(1f).mul(1e9f));
        return scores.softmax(-1).expandDims(-1);
    }

    private static Mlp child(Tem4CtrBlock block, String name) {
        return (Mlp) block.getChildren().stream().filter(c -> c.getKey().replaceFirst("^[0-9]+", "").equals(name)).findFirst().orElseThrow()
                .getValue();
    }

    private Tem4CtrBlock initializedBlock(int d) {
        Tem4CtrBlock block = new Tem4CtrBlock(d);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, d));
        return block;
    }

    /** Every parameter's gradient, each then zeroed for the next pass. */
    private static List<float[]> gradients(Tem4CtrBlock block) {
        List<float[]> out = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray grad = p.getValue().getArray().getGradient();
            out.add(grad.toFloatArray());
            grad.subi(grad);
        }
        return out;
    }

    @Test
    void shapesMaskingAndGradientsReachEveryAttention() {
        int n = 3;
        int l = 4;
        int k = 6;
        int d = 8;
        Tem4CtrBlock block = initializedBlock(d);
        ParameterStore store = new ParameterStore(manager, false);
        NDArray target = manager.randomNormal(new Shape(n, d));
        NDArray clickMask = manager.create(new float[] {0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0}, new Shape(n, l));
        NDArray unclickMask = manager.ones(new Shape(n, l, k));
        unclickMask.set(new ai.djl.ndarray.index.NDIndex(":, :, 3:"), 0f);
        // unclicks exist only around real clicks (the encoder never fills slots of padded clicks)
        unclickMask = unclickMask.mul(clickMask.expandDims(-1));
        NDArray clicks = manager.randomNormal(new Shape(n, l, d)).mul(clickMask.expandDims(-1));
        NDArray unclicks = manager.randomNormal(new Shape(n, l, k, d)).mul(unclickMask.expandDims(-1));
        NDArray out;
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            out = block.forward(store, new NDList(target, clicks, unclicks, clickMask, unclickMask), true).singletonOrThrow();
            collector.backward(out.sum());
        }
        assertThat(out.getShape()).isEqualTo(new Shape(n, 2L * d));
        // a user without clicks pools nothing
        assertThat(out.get(2).abs().sum().getFloat()).isEqualTo(0f);
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray grad = p.getValue().getArray().getGradient();
            assertThat(grad.isNaN().any().getBoolean()).as(p.getKey()).isFalse();
            if (p.getKey().endsWith("layer2_bias")) {
                // softmax ignores a shift common to all scores: the scorers' output bias gets no gradient
                assertThat(grad.abs().sum().getFloat()).as(p.getKey()).isLessThan(1e-4f);
            } else {
                assertThat(grad.abs().sum().getFloat()).as("gradient reaches " + p.getKey()).isGreaterThan(0f);
            }
        }
        // padded unclick slots get no say: changing them changes nothing
        NDArray noisy = unclicks.add(manager.randomNormal(new Shape(n, l, k, d)).mul(unclickMask.neg().add(1f).expandDims(-1)));
        NDArray again = block.forward(store, new NDList(target, clicks, noisy.mul(unclickMask.expandDims(-1)), clickMask,
                unclickMask), false).singletonOrThrow();
        assertThat(again.sub(out).abs().max().getFloat()).isLessThan(1e-5f);
    }

    @Test
    void am2HeadShapeAndGradientIntoBackboneAndGenerators() {
        int b = 4;
        Am2Head head = new Am2Head(6, 5);
        head.initialize(manager, DataType.FLOAT32, new Shape(1, 6), new Shape(1, 5));
        ParameterStore store = new ParameterStore(manager, false);
        NDArray h = manager.randomNormal(new Shape(b, 6));
        NDArray scenario = manager.randomNormal(new Shape(b, 5));
        h.setRequiresGradient(true);
        NDArray out;
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            out = head.apply(store, h, scenario, true);
            collector.backward(out.sum());
        }
        assertThat(out.getShape()).isEqualTo(new Shape(b));
        assertThat(h.getGradient().abs().sum().getFloat()).isGreaterThan(0f);
        for (Pair<String, Parameter> p : head.getParameters()) {
            assertThat(p.getValue().getArray().getGradient().abs().sum().getFloat()).as(p.getKey()).isGreaterThan(0f);
        }
        // per-sample weights: the same h under two scenarios gives two prices
        NDArray same = h.get("0:1").repeat(0, 2);
        float[] two = head.apply(store, same, scenario.get("0:2"), false).toFloatArray();
        assertThat(two[0]).isNotEqualTo(two[1]);
    }

    @Test
    void bceIsStableAndItsGradientIsWeightedResidual() {
        NDArray logit = manager.create(new float[] {-100f, 100f, 0.5f, -2f});
        NDArray label = manager.create(new float[] {1f, 0f, 1f, 0f});
        NDArray weight = manager.create(new float[] {2f, 1f, 1f, 3f});
        logit.setRequiresGradient(true);
        float[] bce = CtrLoss.bce(logit, label).toFloatArray();
        assertThat(bce[0]).isCloseTo(100f, within(1e-3f));
        assertThat(bce[1]).isCloseTo(100f, within(1e-3f));
        assertThat((double) bce[2]).isCloseTo(Math.log1p(Math.exp(-0.5)), within(1e-5));
        NDArray zeros = manager.zeros(new Shape(4));
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            collector.backward(CtrLoss.total(logit, label, weight, zeros, null, zeros, zeros, 0.1f));
        }
        float[] grad = logit.getGradient().toFloatArray();
        float[] z = {-100f, 100f, 0.5f, -2f};
        float[] y = {1, 0, 1, 0};
        float[] w = {2, 1, 1, 3};
        for (int i = 0; i < 4; i++) {
            double expected = w[i] * (1 / (1 + Math.exp(-z[i])) - y[i]) / 4;
            assertThat((double) grad[i]).isCloseTo(expected, within(1e-5));
        }
    }

    @Test
    void fakeNegativeWeightsAndMarketTerm() {
        NDArray logit = manager.create(new float[] {0f, 0f});
        NDArray label = manager.create(new float[] {1f, 0f});
        NDArray ones = manager.ones(new Shape(2));
        NDArray zeros = manager.zeros(new Shape(2));
        double ln2 = Math.log(2);
        // p = 0.5: positives weigh 1.5, negatives 0.75
        assertThat((double) CtrLoss.total(logit, label, ones, ones, null, zeros, zeros, 0f).getFloat())
                .isCloseTo((1.5 * ln2 + 0.75 * ln2) / 2, within(1e-5));
        NDArray price = manager.create(new float[] {1f, 3f});
        NDArray target = manager.create(new float[] {2f, -10f});
        NDArray mask = manager.create(new float[] {1f, 0f});
        // MAE over the one sample with a price: |1 - 2| = 1, times lambda 0.5
        assertThat((double) CtrLoss.total(logit, label, ones, zeros, price, target, mask, 0.5f).getFloat())
                .isCloseTo(ln2 + 0.5, within(1e-5));
    }
}
