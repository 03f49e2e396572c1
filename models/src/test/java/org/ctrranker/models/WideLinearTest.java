package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Random;
import org.ctrranker.models.nn.CtrLoss;
import org.junit.jupiter.api.Test;

class WideLinearTest {

    /** The CTR term of the loss for one sample, the fake-negative importance held at its value at {@code z0}. */
    private static double loss(double z, double z0, float label, float weight, boolean fakeNegative) {
        double p0 = 1 / (1 + Math.exp(-z0));
        double importance = !fakeNegative ? 1 : label != 0 ? 1 + p0 : (1 - p0) * (1 + p0);
        double bce = Math.max(z, 0) - z * label + Math.log1p(Math.exp(-Math.abs(z)));
        return weight * importance * bce;
    }

    @Test
    void logitGradientsAreTheDerivativeOfEachSamplesWeightedLoss() {
        float[] logits = {-3f, -0.2f, 0f, 0.7f, 4f, -1.1f};
        float[] labels = {0, 1, 0, 1, 0, 1};
        float[] weights = {1f, 2.5f, 0.5f, 1f, 1.5f, 0.8f};
        float[] fakeNegative = {0, 0, 1, 1, 0, 1};
        float[] g = CtrLoss.logitGradients(logits, labels, weights, fakeNegative);
        double h = 1e-4;
        for (int i = 0; i < g.length; i++) {
            double numeric = (loss(logits[i] + h, logits[i], labels[i], weights[i], fakeNegative[i] != 0)
                    - loss(logits[i] - h, logits[i], labels[i], weights[i], fakeNegative[i] != 0)) / (2 * h);
            assertThat((double) g[i]).as("sample %d", i).isCloseTo(numeric, within(1e-4));
        }
    }

    @Test
    void anIdSeenAFewTimesMovesItsOwnWeightAndNoOther() {
        WideLinear wide = new WideLinear(1 << 12, 1, 0.05f);
        Features hot = new Features(new long[] {FeatureHash.of("user", "hot")}, new float[] {0f}, 0);
        Features cold = new Features(new long[] {FeatureHash.of("user", "cold")}, new float[] {0f}, 0);
        for (int i = 0; i < 5; i++) {
            // clicked each time while predicted at 0.5: gradient p - y = -0.5
            wide.train(List.of(hot), new float[] {-0.5f});
        }
        // AdaGrad with a constant gradient: learningRate * (1 + 1/sqrt(2) + ... + 1/sqrt(5)) = 0.16 per weight
        assertThat(wide.logit(hot) - wide.logit(cold)).isCloseTo(0.16f, within(0.01f));
        assertThat(wide.logit(cold)).as("cold shares only the bias with hot").isCloseTo(0.16f, within(0.01f))
                .isEqualTo(wide.logit(new Features(new long[] {FeatureHash.of("user", "never seen")}, new float[] {0f}, 0)));
    }

    @Test
    void aTrainingStepMovesTheWidePartAlongTheJointLossAndServingAddsIt() {
        float rate = 0.05f;
        Sample clicked = CtrModelTest.samples(new Random(8), 1).get(0);
        Sample positive = new Sample(clicked.features(), clicked.history(), 1, clicked.bid(), clicked.marketPrice(),
                clicked.scenario(), 1f, false);
        try (CtrModel model = CtrModel.create(CtrModelTest.small().wideLearningRate(rate).build());
                CtrModel deepOnly = CtrModel.create(CtrModelTest.small().wideBuckets(0).build())) {
            assertThat(model.wideLogit(positive.features())).isZero();
            assertThat(model.predict(List.of(positive))).as("a zero wide part adds nothing")
                    .containsExactly(deepOnly.predict(List.of(positive)));
            model.train(List.of(positive));
            // AdaGrad's first step moves every weight the sample touches by the rate, against the gradient's sign
            // (p - y < 0 for a click): the bias, each id, and each dense weight by rate x |x_j| in the logit.
            double expected = rate * (1 + positive.features().ids().length);
            for (float x : positive.features().dense()) {
                expected += x == 0 ? 0 : rate * Math.abs(x);
            }
            assertThat((double) model.wideLogit(positive.features())).isCloseTo(expected, within(1e-5));
        }
    }
}
