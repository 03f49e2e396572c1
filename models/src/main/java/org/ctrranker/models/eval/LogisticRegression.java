package org.ctrranker.models.eval;

import java.util.List;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.Sample;

/**
 * The logistic-regression baseline: one weight per hashed id and per dense feature, trained sample
 * by sample with AdaGrad (the classic online CTR learner).
 */
public final class LogisticRegression implements Learner {

    private static final int BUCKETS = 1 << 20;
    private final double learningRate;
    private final double[] weights = new double[BUCKETS];
    private final double[] squares = new double[BUCKETS];

    public LogisticRegression(double learningRate) {
        this.learningRate = learningRate;
    }

    @Override
    public String name() {
        return "lr";
    }

    @Override
    public float[] predict(List<Sample> samples) {
        float[] out = new float[samples.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (1 / (1 + Math.exp(-logit(samples.get(i)))));
        }
        return out;
    }

    private double logit(Sample s) {
        double z = weights[0];
        for (long id : s.features().ids()) {
            z += weights[(int) FeatureHash.bucket(id, BUCKETS)];
        }
        float[] dense = s.features().dense();
        for (int j = 0; j < dense.length; j++) {
            z += weights[1 + j] * dense[j];
        }
        return z;
    }

    @Override
    public void train(List<Sample> samples) {
        for (Sample s : samples) {
            double g = 1 / (1 + Math.exp(-logit(s))) - (s.label() != 0 ? 1 : 0);
            update(0, g);
            for (long id : s.features().ids()) {
                update((int) FeatureHash.bucket(id, BUCKETS), g);
            }
            float[] dense = s.features().dense();
            for (int j = 0; j < dense.length; j++) {
                update(1 + j, g * dense[j]);
            }
        }
    }

    private void update(int i, double g) {
        squares[i] += g * g;
        weights[i] -= learningRate * g / Math.sqrt(squares[i] + 1e-8);
    }
}
