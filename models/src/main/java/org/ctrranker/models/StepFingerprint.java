package org.ctrranker.models;

import java.io.Serializable;

/**
 * Hashes of one training step of a {@link CtrModel}: two models that should train alike (the job's trainer and a
 * replay of its samples) can be compared step by step, and the first step where they part says what parted first:
 * the state the step began from, its encoded inputs, the logits of its forward pass, or the state it left.
 *
 * @param step the model's step count before this step (0 for its first)
 * @param rows samples in the batch
 * @param stateBefore the network's parameters, the wide part's weights and the running statistics (market
 *     price, positives' bids) when the step began
 * @param inputs the encoded batch (every array the network reads) and each sample's label, bid, market price, weight
 *     and fake-negative flag
 * @param logits the forward pass's logits (the wide part's share included)
 * @param stateAfter as {@code stateBefore}, after the step
 * @param optimizerAfter the optimisers' state after the step: Adam's moments, step counts and rows' ages, AdaGrad's sums
 */
public record StepFingerprint(long step, int rows, long stateBefore, long inputs, long logits,
        long stateAfter, long optimizerAfter) implements Serializable {

    private static final long serialVersionUID = 1L;
    /** Where a hash begins: FNV-1a's offset basis. */
    static final long START = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;

    /** An FNV-1a hash over values, continued from {@code hash} ({@link #START} to begin). */
    static long floats(long hash, float[] values) {
        for (float v : values) {
            hash = (hash ^ Float.floatToRawIntBits(v)) * PRIME;
        }
        return hash;
    }

    static long bytes(long hash, byte[] values) {
        for (byte v : values) {
            hash = (hash ^ (v & 0xff)) * PRIME;
        }
        return hash;
    }

    static long longs(long hash, long... values) {
        for (long v : values) {
            hash = (hash ^ v) * PRIME;
        }
        return hash;
    }
}
