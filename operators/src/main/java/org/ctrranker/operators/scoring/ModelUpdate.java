package org.ctrranker.operators.scoring;

/**
 * A published model version: what the trainer broadcasts to the scorers and writes to Redis. A Flink
 * POJO (public fields, no-arg constructor) so it travels without Kryo.
 */
public final class ModelUpdate {

    public String modelName;
    /** Monotonic per model name, across restarts (kept in the trainer's checkpointed state); 1 is the first. */
    public long version;
    /** {@code CtrModel.snapshot()} bytes. */
    public byte[] parameters;
    /** Labelled samples trained on so far. */
    public long samplesTrained;
    /** Label time (event time, ms) of the newest sample trained on. */
    public long eventTimeMs;
    /** Processing time (ms) of publication. */
    public long publishedAtMs;
    /** Progressive (predict-then-train) AUC and log loss over the last metrics window of samples; NaN when undefined. */
    public double progressiveAuc;
    public double progressiveLogLoss;

    public ModelUpdate() {}

    @Override
    public String toString() {
        return "ModelUpdate{" + modelName + " v" + version + ", " + samplesTrained + " samples, auc " + progressiveAuc + "}";
    }
}
