package org.ctrranker.operators.scoring;

import java.io.Serializable;

/**
 * The trainer's progressive-validation predictions, one per trained sample (scored before the model trained
 * on it), logged in a {@link TrainerLog}: what a bounded run needs to compute the trainer's AUC over any chosen
 * slice of the stream (a test split, excluding some samples) and to compare it, sample by sample, with another
 * evaluation of the same data. Opt-in ({@code ctr.training.prediction-log-from-ms}): it records only samples
 * whose impression time is at or after that instant. With it the trainer also logs each training step's
 * {@link org.ctrranker.models.StepFingerprint} ({@link #STEP_FINGERPRINTS}), so such a comparison can say at which
 * step, and in what, the two parted.
 */
public final class ProgressivePredictions {

    /** The predictions' accumulator in the job result. */
    public static final String NAME = "trainer.progressivePredictions";
    /** The training steps' fingerprints' accumulator in the job result. */
    public static final String STEP_FINGERPRINTS = "trainer.stepFingerprints";

    private ProgressivePredictions() {}

    /** One sample as the trainer scored it before training on it. */
    public record Scored(String impressionId, long impressionTimeMs, long labelTimeMs, float prediction, int label)
            implements Serializable {}
}
