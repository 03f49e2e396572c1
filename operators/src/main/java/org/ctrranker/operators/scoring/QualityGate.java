package org.ctrranker.operators.scoring;

import java.io.Serializable;
import java.util.Locale;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.metrics.Auc;

/**
 * The trainer's quality gate (DESIGN.md, online learning): a candidate version goes live only if its AUC on
 * held-out samples is not worse than the live version's on the same samples by more than
 * {@code maxAucDrop}. The held-out slice is a fixed fraction of impressions chosen by a hash of the
 * impression id, so it is the same in every run and the trainer never trains on it.
 *
 * <p>With too little evidence (fewer than {@code minPositives} positives, or as many negatives, in the
 * window) the candidate passes: blocking would freeze a young model, or one on a sparse-click stream, at
 * its first weights, while an AUC over a handful of clicks is mostly noise; the reason says so.
 *
 * @param holdoutPercent impressions held out of training, 0 to 50
 * @param holdoutWindow newest held-out samples the gate scores
 */
public record QualityGate(int holdoutPercent, int holdoutWindow, double maxAucDrop, int minPositives)
        implements Serializable {

    /** Whether the impression belongs to the held-out slice (both samples of a fake-negative pair alike). */
    public boolean isHeldOut(String impressionId) {
        return Math.floorMod(FeatureHash.of("holdout", impressionId), 100L) < holdoutPercent;
    }

    /** The gate's verdict on one candidate; AUCs are NaN where the window holds one class only. */
    public record Decision(boolean live, double candidateAuc, double liveAuc, int samples, int positives, String reason) {}

    /** Judges a candidate by its and the live version's predictions on the same held-out samples. */
    public Decision decide(float[] candidate, float[] live, int[] labels) {
        int positives = 0;
        for (int label : labels) {
            positives += label != 0 ? 1 : 0;
        }
        int negatives = labels.length - positives;
        double candidateAuc = Auc.of(toDoubles(candidate), labels);
        double liveAuc = Auc.of(toDoubles(live), labels);
        if (positives < Math.max(1, minPositives) || negatives < Math.max(1, minPositives)) {
            return new Decision(true, candidateAuc, liveAuc, labels.length, positives, String.format(Locale.ROOT,
                    "passed: too little evidence (%d positives, %d negatives held out; the gate needs %d of each)",
                    positives, negatives, Math.max(1, minPositives)));
        }
        boolean pass = candidateAuc >= liveAuc - maxAucDrop;
        return new Decision(pass, candidateAuc, liveAuc, labels.length, positives, String.format(Locale.ROOT,
                "%s: held-out AUC %.5f %s live %.5f - %.4f", pass ? "passed" : "rejected", candidateAuc,
                pass ? ">=" : "<", liveAuc, maxAucDrop));
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
