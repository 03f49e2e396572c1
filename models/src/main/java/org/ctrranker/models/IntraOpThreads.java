package org.ctrranker.models;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Gives each thread that runs the model the engine's intra-op thread count ({@code ai.djl.pytorch.num_threads}).
 *
 * <p>Why: PyTorch keeps that count per thread. The engine sets it on the thread that loads it; any other thread
 * takes it over only when it first enters one of PyTorch's parallel loops, which a small model's arrays (under
 * 32,768 elements) never reach. Until then MKL runs that thread's matrix products on every core: in the job each
 * scorer and the trainer had an OpenMP team of two on a two-core machine, whatever the setting said (stop 45).
 * {@code at::get_num_threads()} applies the count to the calling thread.
 */
final class IntraOpThreads {

    private static final ThreadLocal<Boolean> APPLIED = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private IntraOpThreads() {}

    /** Applies the engine's count to the calling thread, once per thread; the engine must be loaded. */
    static void applyToCurrentThread() {
        if (!APPLIED.get()) {
            JniUtils.getNumThreads();
            APPLIED.set(Boolean.TRUE);
        }
    }
}
