package org.ctrranker.operators.scoring;

import java.io.Serializable;
import java.util.ArrayList;
import org.apache.flink.api.common.accumulators.Accumulator;

/**
 * The trainer's progressive-validation predictions, one per trained sample (scored before the model trained
 * on it), as a Flink accumulator: what a bounded run needs to compute the trainer's AUC over any chosen slice
 * of the stream (a test split, excluding some samples) and to compare it, sample by sample, with another
 * evaluation of the same data. Opt-in ({@code ctr.training.prediction-log-from-ms}): it records only samples
 * whose impression time is at or after that instant and grows with them, so it is a diagnostic for bounded
 * runs, not for an unbounded job. Not checkpointed: a restarted attempt starts a fresh log (bounded runs do not
 * restart).
 */
public final class ProgressivePredictions implements Accumulator<ProgressivePredictions.Scored, ArrayList<ProgressivePredictions.Scored>> {

    private static final long serialVersionUID = 1L;
    /** The accumulator's name in the job result. */
    public static final String NAME = "trainer.progressivePredictions";

    /** One sample as the trainer scored it before training on it. */
    public record Scored(String impressionId, long impressionTimeMs, long labelTimeMs, float prediction, int label)
            implements Serializable {}

    private ArrayList<Scored> scored = new ArrayList<>();

    // The task thread appends while the TaskManager's heartbeat serialises the accumulator for the client:
    // every access holds the lock, or the list is copied mid-append (ConcurrentModificationException).
    @Override
    public synchronized void add(Scored value) {
        scored.add(value);
    }

    @Override
    public synchronized ArrayList<Scored> getLocalValue() {
        return new ArrayList<>(scored);
    }

    @Override
    public synchronized void resetLocal() {
        scored = new ArrayList<>();
    }

    @Override
    public synchronized void merge(Accumulator<Scored, ArrayList<Scored>> other) {
        scored.addAll(other.getLocalValue());
    }

    @Override
    public synchronized Accumulator<Scored, ArrayList<Scored>> clone() {
        ProgressivePredictions copy = new ProgressivePredictions();
        copy.scored = new ArrayList<>(scored);
        return copy;
    }

    private synchronized void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
        out.defaultWriteObject();
    }
}
