package org.ctrranker.operators.scoring;

import java.io.Serializable;
import java.util.ArrayList;
import org.apache.flink.api.common.accumulators.Accumulator;

/**
 * One of the trainer's opt-in diagnostic logs ({@link ProgressivePredictions}, its steps' fingerprints) as a Flink
 * accumulator: it grows with the run, so it is for bounded runs. Not checkpointed: a restarted attempt starts a
 * fresh log (bounded runs do not restart).
 */
public final class TrainerLog<T extends Serializable> implements Accumulator<T, ArrayList<T>> {

    private static final long serialVersionUID = 1L;

    private ArrayList<T> entries = new ArrayList<>();

    // The task thread appends while the TaskManager's heartbeat serialises the accumulator for the client:
    // every access holds the lock, or the list is copied mid-append (ConcurrentModificationException).
    @Override
    public synchronized void add(T value) {
        entries.add(value);
    }

    @Override
    public synchronized ArrayList<T> getLocalValue() {
        return new ArrayList<>(entries);
    }

    @Override
    public synchronized void resetLocal() {
        entries = new ArrayList<>();
    }

    @Override
    public synchronized void merge(Accumulator<T, ArrayList<T>> other) {
        entries.addAll(other.getLocalValue());
    }

    @Override
    public synchronized Accumulator<T, ArrayList<T>> clone() {
        TrainerLog<T> copy = new TrainerLog<>();
        copy.entries = new ArrayList<>(entries);
        return copy;
    }

    private synchronized void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
        out.defaultWriteObject();
    }
}
