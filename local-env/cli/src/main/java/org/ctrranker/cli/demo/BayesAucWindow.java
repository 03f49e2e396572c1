package org.ctrranker.cli.demo;

import java.util.ArrayDeque;
import org.ctrranker.jobs.generate.ImpressionTruth;
import org.ctrranker.models.metrics.Auc;

/**
 * The generator's Bayes-optimal AUC (true click probabilities against the labels) over the same
 * slice the trainer's progressive AUC covers: the last {@code window} impressions up to the event
 * time the trainer has reached. The ceiling to read the online AUC against.
 */
final class BayesAucWindow {

    private final int window;
    private final ArrayDeque<ImpressionTruth> recent = new ArrayDeque<>();

    BayesAucWindow(int window) {
        this.window = window;
    }

    /** Called on the generator's thread for every impression. */
    synchronized void add(ImpressionTruth truth) {
        recent.addLast(truth);
        // Keep a margin beyond the window: the newest impressions are not labelled yet.
        while (recent.size() > 4 * window) {
            recent.removeFirst();
        }
    }

    /** AUC of the last {@code window} impressions shown at or before {@code upToEventTimeMs}; NaN if one class only. */
    synchronized double auc(long upToEventTimeMs) {
        double[] scores = new double[window];
        int[] labels = new int[window];
        int n = 0;
        var it = recent.descendingIterator();
        while (it.hasNext() && n < window) {
            ImpressionTruth truth = it.next();
            if (truth.impressionTimeMs() <= upToEventTimeMs) {
                scores[n] = truth.trueCtr();
                labels[n] = truth.clickedWithinWindow() ? 1 : 0;
                n++;
            }
        }
        return n == 0 ? Double.NaN : Auc.of(java.util.Arrays.copyOf(scores, n), java.util.Arrays.copyOf(labels, n));
    }
}
