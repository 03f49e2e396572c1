package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;

/**
 * The training objective: BCM- and importance-weighted binary cross-entropy on logits, plus lambda
 * times the AM2 market-price MAE over the samples that carry a market price.
 */
public final class CtrLoss {

    private CtrLoss() {}

    /** Per-sample BCE from logits, stable for any z: max(z,0) - z*y + log(1 + exp(-|z|)). */
    public static NDArray bce(NDArray logit, NDArray label) {
        NDArray softplusTail = logit.abs().neg().exp().add(1f).log();
        return logit.maximum(Scalar.of(label.getManager(), 0f)).sub(logit.mul(label)).add(softplusTail);
    }

    /**
     * d loss_i / d logit_i of each sample alone under {@link #total}'s CTR term (not divided by the batch):
     * weight x importance x (p - y), the importance weights held constant as there.
     */
    public static float[] logitGradients(float[] logit, float[] label, float[] weight, float[] fakeNegative) {
        float[] g = new float[logit.length];
        for (int i = 0; i < g.length; i++) {
            double p = 1 / (1 + Math.exp(-logit[i]));
            double importance = label[i] != 0 ? 1 + p : (1 - p) * (1 + p);
            double effective = weight[i] * (fakeNegative[i] != 0 ? importance : 1);
            g[i] = (float) (effective * (p - label[i]));
        }
        return g;
    }

    /**
     * @param weight per-sample weights (BCM on positives times the sample weight) [N]
     * @param fakeNegative 1 where the fake-negative importance weights apply [N]
     * @param marketPrice AM2 output [N], or null when AM2 is off
     * @param marketTarget normalised market price [N] (anything where {@code marketMask} is 0)
     * @param marketMask 1 where the sample has a market price [N]
     */
    public static NDArray total(NDArray logit, NDArray label, NDArray weight, NDArray fakeNegative,
            NDArray marketPrice, NDArray marketTarget, NDArray marketMask, float lambda) {
        NDArray p = logit.getNDArrayInternal().sigmoid().stopGradient();
        NDArray positive = p.add(1f);
        NDArray negative = p.neg().add(1f).mul(positive);
        NDArray importance = label.mul(positive).add(label.neg().add(1f).mul(negative));
        // w_fn = 1 where the correction is off, the importance weight where it is on
        NDArray effective = weight.mul(importance.sub(1f).mul(fakeNegative).add(1f));
        NDArray ctr = bce(logit, label).mul(effective).mean();
        if (marketPrice == null || lambda == 0f) {
            return ctr;
        }
        NDArray counted = marketMask.sum().maximum(1f);
        NDArray mae = marketPrice.sub(marketTarget).abs().mul(marketMask).sum().div(counted);
        return ctr.add(mae.mul(Scalar.of(label.getManager(), lambda)));
    }
}
