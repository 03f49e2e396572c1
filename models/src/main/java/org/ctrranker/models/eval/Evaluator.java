package org.ctrranker.models.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.ctrranker.models.Sample;
import org.ctrranker.models.metrics.Auc;
import org.ctrranker.models.metrics.LogLoss;

/**
 * Runs a learner over an {@link EvalData} set, online (one pass, predict each request, then learn
 * from it: progressive validation) or offline (epochs over the train split, then the frozen model
 * scores the test split). Metrics are reported on the test split in both modes, so they compare.
 */
public final class Evaluator {

    /** Points of the AUC/logloss-over-the-stream curves. */
    static final int CHUNKS = 20;

    private Evaluator() {}

    /** The outcome of one learner in one mode. */
    public record Result(String model, String mode, float[] testPredictions, int[] testLabels, double auc,
            double logloss, double streamAuc, double[] chunkAuc, double[] chunkLogloss, double seconds) {}

    public static Result online(Learner learner, EvalData data) {
        long start = System.nanoTime();
        int n = data.samples();
        float[] predictions = new float[n];
        int[] labels = new int[n];
        int at = 0;
        List<List<Sample>> groups = data.groups();
        for (int g = 0; g < groups.size(); ) {
            // score the requests up to the learner's next update in one call
            int end = g;
            int pending = 0;
            List<Sample> block = new ArrayList<>();
            int hint = Math.max(1, learner.batchHint());
            while (end < groups.size() && (end == g || pending < hint)) {
                block.addAll(groups.get(end));
                pending += groups.get(end).size();
                end++;
            }
            float[] p = learner.predict(block);
            System.arraycopy(p, 0, predictions, at, p.length);
            for (Sample s : block) {
                labels[at++] = s.label();
            }
            for (int i = g; i < end; i++) {
                learner.train(groups.get(i));
            }
            g = end;
        }
        learner.flush();
        int from = data.firstTestSample();
        double seconds = (System.nanoTime() - start) / 1e9;
        double[][] chunks = chunks(predictions, labels);
        float[] testP = java.util.Arrays.copyOfRange(predictions, from, n);
        int[] testY = java.util.Arrays.copyOfRange(labels, from, n);
        return new Result(learner.name(), "online", testP, testY, auc(testP, testY), logloss(testP, testY),
                auc(predictions, labels), chunks[0], chunks[1], seconds);
    }

    public static Result offline(Learner learner, EvalData data, int epochs, long seed) {
        long start = System.nanoTime();
        List<List<Sample>> train = new ArrayList<>(data.groups().subList(0, data.testFrom()));
        Random random = new Random(seed);
        for (int epoch = 0; epoch < epochs; epoch++) {
            Collections.shuffle(train, random);
            for (List<Sample> group : train) {
                learner.train(group);
            }
            learner.flush();
        }
        List<List<Sample>> test = data.groups().subList(data.testFrom(), data.groups().size());
        int n = data.samples() - data.firstTestSample();
        float[] predictions = new float[n];
        int[] labels = new int[n];
        int at = 0;
        List<Sample> batch = new ArrayList<>();
        for (List<Sample> group : test) {
            batch.addAll(group);
            if (batch.size() >= 512) {
                at = score(learner, batch, predictions, labels, at);
            }
        }
        score(learner, batch, predictions, labels, at);
        double seconds = (System.nanoTime() - start) / 1e9;
        double[][] chunks = chunks(predictions, labels);
        return new Result(learner.name(), "offline", predictions, labels, auc(predictions, labels),
                logloss(predictions, labels), Double.NaN, chunks[0], chunks[1], seconds);
    }

    private static int score(Learner learner, List<Sample> batch, float[] predictions, int[] labels, int at) {
        float[] p = learner.predict(batch);
        System.arraycopy(p, 0, predictions, at, p.length);
        for (Sample s : batch) {
            labels[at++] = s.label();
        }
        batch.clear();
        return at;
    }

    static double auc(float[] p, int[] y) {
        return Auc.of(doubles(p), y);
    }

    static double[] doubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    static double logloss(float[] p, int[] y) {
        double[] d = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = p[i];
        }
        return LogLoss.of(d, y);
    }

    /** AUC and logloss over {@link #CHUNKS} consecutive, equal slices of the stream. */
    private static double[][] chunks(float[] p, int[] y) {
        double[][] out = new double[2][CHUNKS];
        int size = Math.max(1, p.length / CHUNKS);
        for (int c = 0; c < CHUNKS; c++) {
            int from = Math.min(p.length, c * size);
            int to = c == CHUNKS - 1 ? p.length : Math.min(p.length, from + size);
            float[] cp = java.util.Arrays.copyOfRange(p, from, to);
            int[] cy = java.util.Arrays.copyOfRange(y, from, to);
            out[0][c] = auc(cp, cy);
            out[1][c] = logloss(cp, cy);
        }
        return out;
    }

    /** Mean prediction and observed CTR in ten equal-count bins of the prediction. */
    public static double[][] calibration(float[] p, int[] y) {
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(p[a], p[b]));
        int bins = 10;
        double[][] out = new double[2][bins];
        for (int b = 0; b < bins; b++) {
            int from = (int) ((long) b * p.length / bins);
            int to = (int) ((long) (b + 1) * p.length / bins);
            double sumP = 0;
            double sumY = 0;
            for (int i = from; i < to; i++) {
                sumP += p[order[i]];
                sumY += y[order[i]];
            }
            out[0][b] = sumP / Math.max(1, to - from);
            out[1][b] = sumY / Math.max(1, to - from);
        }
        return out;
    }
}
