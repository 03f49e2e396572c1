package org.ctrranker.models.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.models.Sample;

/** The online popularity baseline: each item's smoothed CTR so far, updated after every prediction. */
public final class ItemPopularity implements Learner {

    private static final double SMOOTHING = 20;
    private final Map<Long, long[]> counts = new HashMap<>();
    private long impressions;
    private long clicks;

    @Override
    public String name() {
        return "popularity";
    }

    @Override
    public float[] predict(List<Sample> samples) {
        double global = (clicks + 1.0) / (impressions + 25.0);
        float[] out = new float[samples.size()];
        for (int i = 0; i < out.length; i++) {
            long[] c = counts.getOrDefault(samples.get(i).features().ids()[1], new long[2]);
            out[i] = (float) ((c[1] + SMOOTHING * global) / (c[0] + SMOOTHING));
        }
        return out;
    }

    @Override
    public void train(List<Sample> samples) {
        for (Sample s : samples) {
            long[] c = counts.computeIfAbsent(s.features().ids()[1], k -> new long[2]);
            c[0]++;
            c[1] += s.label();
            impressions++;
            clicks += s.label();
        }
    }
}
