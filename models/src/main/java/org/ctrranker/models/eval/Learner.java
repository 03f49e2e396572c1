package org.ctrranker.models.eval;

import java.util.List;
import org.ctrranker.models.Sample;

/** Anything the evaluator can run side by side: the DJL model and the baselines. */
public interface Learner extends AutoCloseable {

    String name();

    float[] predict(List<Sample> samples);

    /** Learns from labelled samples (may buffer them into mini-batches). */
    void train(List<Sample> samples);

    /**
     * Samples the learner buffers before it learns: the online evaluation scores that many at once
     * (the same predictions as one by one, since nothing is learnt in between), 1 for per-sample learners.
     */
    default int batchHint() {
        return 1;
    }

    /** Learns from whatever is still buffered. */
    default void flush() {}

    @Override
    default void close() {}
}
