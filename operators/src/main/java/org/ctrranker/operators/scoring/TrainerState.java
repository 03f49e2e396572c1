package org.ctrranker.operators.scoring;

import org.ctrranker.models.metrics.Auc;
import org.ctrranker.models.metrics.LogLoss;

/**
 * The trainer's checkpointed scalars and models: a Flink POJO (public fields, no-arg constructor). The
 * samples it holds are beside it: the unfinished batch in operator state, the event-time buffer and the
 * held-out window in keyed state.
 */
public final class TrainerState {

    /** {@code CtrModel.checkpoint()} of the model in training (optimiser included); null before the first checkpoint. */
    public byte[] checkpoint;
    /** {@code CtrModel.snapshot()} of the live version; null while the initial weights are live (version 0). */
    public byte[] liveParameters;
    /** Last version number taken, live or rejected. */
    public long version;
    public long liveVersion;
    public long samplesTrained;
    public long samplesSincePublish;
    /** Samples in the unfinished batch. */
    public int pendingSamples;
    /** Held-out samples seen so far (the window keeps the newest). */
    public long heldOut;
    /** Samples that came after the watermark had passed their label time (handled at the next watermark). */
    public long lateSamples;
    /** Label time (event time, ms) of the newest sample trained on. */
    public long newestSampleTimeMs = Long.MIN_VALUE;
    /** Ring buffer of the last predictions (made before training on them) and their labels. */
    public float[] recentPredictions;
    public int[] recentLabels;
    public long recorded;
    public double lastAuc = Double.NaN;
    public double lastLogLoss = Double.NaN;

    public TrainerState() {}

    static TrainerState fresh(int window) {
        TrainerState s = new TrainerState();
        s.recentPredictions = new float[window];
        s.recentLabels = new int[window];
        return s;
    }

    /**
     * What a checkpoint keeps: the checkpoint shares the value instead of copying it (SharedValueSerializer), so
     * it gets its own copy of what {@link #record} changes in place; the model bytes are only ever replaced.
     */
    TrainerState forCheckpoint() {
        TrainerState s = new TrainerState();
        s.checkpoint = checkpoint;
        s.liveParameters = liveParameters;
        s.version = version;
        s.liveVersion = liveVersion;
        s.samplesTrained = samplesTrained;
        s.samplesSincePublish = samplesSincePublish;
        s.pendingSamples = pendingSamples;
        s.heldOut = heldOut;
        s.lateSamples = lateSamples;
        s.newestSampleTimeMs = newestSampleTimeMs;
        s.recentPredictions = recentPredictions.clone();
        s.recentLabels = recentLabels.clone();
        s.recorded = recorded;
        s.lastAuc = lastAuc;
        s.lastLogLoss = lastLogLoss;
        return s;
    }

    void record(float prediction, int label) {
        int i = (int) (recorded % recentPredictions.length);
        recentPredictions[i] = prediction;
        recentLabels[i] = label;
        recorded++;
    }

    /** Progressive AUC and log loss over the window; AUC is NaN while it holds one class only. */
    void updateMetrics() {
        int n = (int) Math.min(recorded, recentPredictions.length);
        double[] p = new double[n];
        int[] y = new int[n];
        int positives = 0;
        for (int i = 0; i < n; i++) {
            p[i] = recentPredictions[i];
            y[i] = recentLabels[i];
            positives += y[i];
        }
        lastAuc = positives == 0 || positives == n ? Double.NaN : Auc.of(p, y);
        lastLogLoss = n == 0 ? Double.NaN : LogLoss.of(p, y);
    }
}
