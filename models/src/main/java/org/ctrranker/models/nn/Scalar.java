package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * A number for an operation whose backward pass reads it (mul, div, maximum and the like). DJL's number overloads
 * ({@code x.mul(0.5f)}) make the number an array over Java memory and close it as soon as the forward operation
 * returns; the graph keeps only a native reference, so a collection before the backward pass freed the memory under
 * it and the step trained on whatever was written there next (stop 46; TrainingStepMemoryTest). An array made here
 * stays in {@code batch} until that manager closes, after the step.
 */
final class Scalar {

    private Scalar() {}

    static NDArray of(NDManager batch, float value) {
        return batch.create(value);
    }
}
