package org.ctrranker.models.metrics;

import java.util.Arrays;

/**
 * Area under the ROC curve, computed exactly as the Mann-Whitney statistic with tied scores
 * sharing their average rank.
 */
public final class Auc {

    private Auc() {}

    /**
     * @return the AUC of {@code scores} against 0/1 {@code labels}, or NaN when only one class is present
     */
    public static double of(double[] scores, int[] labels) {
        if (scores.length != labels.length) {
            throw new IllegalArgumentException(
                    "scores and labels differ in length: " + scores.length + " vs " + labels.length);
        }
        int n = scores.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double positiveRankSum = 0;
        long positives = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double averageRank = (i + j) / 2.0 + 1.0;
            for (int k = i; k <= j; k++) {
                if (labels[order[k]] != 0) {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }
}
