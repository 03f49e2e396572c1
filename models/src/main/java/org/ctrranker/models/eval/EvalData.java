package org.ctrranker.models.eval;

import java.util.List;
import org.ctrranker.models.Sample;

/**
 * A data set ready for evaluation: samples in stream order, grouped by request, with causal
 * features already computed, the split, and the model shape it needs.
 *
 * @param groups samples of one request each (candidates of a request share one history instance)
 * @param testFrom index of the first test group
 * @param denseFeatures dense features per sample (0: none)
 * @param trueCtr per sample in stream order, NaN for real data
 */
public record EvalData(String name, List<List<Sample>> groups, int testFrom, int sparseFields, int denseFeatures,
        int scenarioFields, double[] trueCtr) {

    public int samples() {
        int n = 0;
        for (List<Sample> g : groups) {
            n += g.size();
        }
        return n;
    }

    public int firstTestSample() {
        int n = 0;
        for (int i = 0; i < testFrom; i++) {
            n += groups.get(i).size();
        }
        return n;
    }
}
