package org.ctrranker.models;

/**
 * Mean and spread of a stream of values, forgetting slowly (an exponential window of about
 * {@code horizon} values), so normalisations follow drifting prices without a second pass.
 */
final class RunningStats {

    private final double horizon;
    private double count;
    private double mean;
    private double variance;

    RunningStats(double horizon) {
        this.horizon = horizon;
    }

    void add(double x) {
        count = Math.min(count + 1, horizon);
        double delta = x - mean;
        mean += delta / count;
        variance += (delta * (x - mean) - variance) / count;
    }

    boolean isEmpty() {
        return count == 0;
    }

    double mean() {
        return mean;
    }

    double std() {
        return Math.sqrt(Math.max(variance, 1e-6));
    }

    double[] state() {
        return new double[] {count, mean, variance};
    }

    void restore(double[] state) {
        count = state[0];
        mean = state[1];
        variance = state[2];
    }
}
