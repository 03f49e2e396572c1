package org.ctrranker.operators.scoring;

/**
 * A model version cut by the trainer: written to Redis, and broadcast to the scorers if it went live. A
 * Flink POJO (public fields, no-arg constructor) so it travels without Kryo. Every field but
 * {@link #publishedProcessingTimeMs} is a function of the labelled samples alone, whatever their arrival
 * order and whatever restarts happened.
 */
public final class ModelUpdate {

    public String modelName;
    /** Monotonic per model name, across restarts (kept in the trainer's checkpointed state); 1 is the first. */
    public long version;
    /** Whether the quality gate let it go live; rejected versions keep their number but never reach scorers. */
    public boolean live;
    /** The live version after this one was judged: {@link #version} if live, else the one before (0: initial weights). */
    public long liveVersion;
    /** Why the gate decided as it did. */
    public String gateReason;
    /** AUC of this version and of the previously live one on the same held-out window; NaN when undefined. */
    public double holdoutAuc;
    public double liveHoldoutAuc;
    public int holdoutSamples;
    public int holdoutPositives;
    /** {@code CtrModel.snapshot()} bytes. */
    public byte[] parameters;
    /** Labelled samples trained on so far. */
    public long samplesTrained;
    /**
     * Event time (ms) at which the version was cut, also its Flink record timestamp: the label time of the
     * sample that completed it, or Long.MAX_VALUE for the version cut when a bounded input ends.
     */
    public long eventTimeMs;
    /** Label time (event time, ms) of the newest sample trained on. */
    public long newestSampleTimeMs;
    /** Processing (wall-clock) time of publication: the one field that differs between reruns. */
    public long publishedProcessingTimeMs;
    /** Progressive (predict-then-train) AUC and log loss over the last metrics window of samples; NaN when undefined. */
    public double progressiveAuc;
    public double progressiveLogLoss;

    public ModelUpdate() {}

    @Override
    public String toString() {
        return "ModelUpdate{" + modelName + " v" + version + (live ? " live" : " rejected") + " @" + eventTimeMs + ", "
                + samplesTrained + " samples, progressive auc " + progressiveAuc + ", holdout auc " + holdoutAuc + " vs "
                + liveHoldoutAuc + "}";
    }
}
