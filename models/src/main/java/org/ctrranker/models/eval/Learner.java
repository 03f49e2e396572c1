package org.ctrranker.models.eval;

import java.util.List;
import org.ctrranker.models.Sample;

/** Anything the evaluator can run side by side: the DJL model and the baselines. */
public interface Learner extends AutoCloseable {

    String name();

    float[] predict(List<Sample> samples);

    /** Learns from labelled samples (may buffer them into mini-batches). */
    void train(List<Sample> samples);

    /** Learns from whatever is still buffered. */
    default void flush() {}

    @Override
    default void close() {}
}
