package org.ctrranker.models.metrics;

/** Mean binary cross-entropy of probabilities against 0/1 labels, with probabilities clipped away from 0 and 1. */
public final class LogLoss {

    private static final double EPSILON = 1e-7;

    private LogLoss() {}

    public static double of(double[] probabilities, int[] labels) {
        if (probabilities.length != labels.length) {
            throw new IllegalArgumentException("probabilities and labels differ in length");
        }
        if (probabilities.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < probabilities.length; i++) {
            double p = Math.min(1 - EPSILON, Math.max(EPSILON, probabilities[i]));
            sum += labels[i] != 0 ? -Math.log(p) : -Math.log(1 - p);
        }
        return sum / probabilities.length;
    }
}
