package org.ctrranker.models;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * The wide part of the model (Wide &amp; Deep): one weight per hashed id and per dense feature, added to
 * the network's logit and trained sample by sample with AdaGrad on the gradient of the joint loss. Why
 * beside the network: each weight follows its own id's samples with a step that shrinks as they add up, so
 * a rarely seen id (a user, a user x category cross) settles on its rate, where the network's embeddings,
 * stepped by Adam at a constant rate once per mini-batch, stay noisy: the online logistic regression beat
 * the network on the synthetic log with 200,000 auctions (models/README.md). Plain Java arrays: per-sample
 * sparse updates are what a native kernel per batch would do badly.
 */
final class WideLinear {

    private static final double EPSILON = 1e-8;

    private final int buckets;
    private final int dense;
    private final float learningRate;
    /** [0] bias, [1, buckets) hashed ids (row 0 of the hash is the bias), [buckets, buckets + dense) dense. */
    private final float[] weights;
    private final float[] squares;

    WideLinear(int buckets, int dense, float learningRate) {
        this.buckets = buckets;
        this.dense = dense;
        this.learningRate = learningRate;
        this.weights = new float[buckets + dense];
        this.squares = new float[buckets + dense];
    }

    /** Weights in snapshots (the AdaGrad sums in checkpoints are as many). */
    int size() {
        return weights.length;
    }

    float logit(Features f) {
        double z = weights[0];
        for (long id : f.ids()) {
            z += weights[(int) FeatureHash.bucket(id, buckets)];
        }
        float[] x = f.dense();
        for (int j = 0; j < Math.min(dense, x.length); j++) {
            z += weights[buckets + j] * x[j];
        }
        return (float) z;
    }

    float[] logits(List<Features> features) {
        float[] out = new float[features.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = logit(features.get(i));
        }
        return out;
    }

    /** One AdaGrad step per sample; {@code gradients[i]}: d loss_i / d logit_i of sample i alone. */
    void train(List<Features> features, float[] gradients) {
        for (int i = 0; i < gradients.length; i++) {
            double g = gradients[i];
            if (g == 0) {
                continue;
            }
            Features f = features.get(i);
            update(0, g);
            for (long id : f.ids()) {
                update((int) FeatureHash.bucket(id, buckets), g);
            }
            float[] x = f.dense();
            for (int j = 0; j < Math.min(dense, x.length); j++) {
                update(buckets + j, g * x[j]);
            }
        }
    }

    private void update(int i, double g) {
        squares[i] += (float) (g * g);
        weights[i] -= (float) (learningRate * g / Math.sqrt(squares[i] + EPSILON));
    }

    /** The weights that differ from zero (their start), for a snapshot. */
    ChangedRows.Changes weightChanges() {
        return ChangedRows.of(weights, null);
    }

    /** Snapshots before format v4: every weight. */
    void loadWeights(DataInputStream in) throws IOException {
        FloatArrays.readInto(in, weights, "the wide part");
    }

    void loadWeightChanges(DataInputStream in) throws IOException {
        ChangedRows.readInto(in, weights, null, "the wide part");
    }

    long fingerprintWeights(long hash) {
        return StepFingerprint.floats(hash, weights);
    }

    long fingerprintSums(long hash) {
        return StepFingerprint.floats(hash, squares);
    }

    void saveOptimizer(DataOutputStream out) throws IOException {
        ChangedRows.write(out, ChangedRows.of(squares, null));
    }

    /** @param changedRows false: a checkpoint before format v3, with every sum */
    void loadOptimizer(DataInputStream in, boolean changedRows) throws IOException {
        if (changedRows) {
            ChangedRows.readInto(in, squares, null, "the wide part's AdaGrad sums");
        } else {
            FloatArrays.readInto(in, squares, "the wide part's AdaGrad sums");
        }
    }
}
