package org.ctrranker.operators.redis;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;

/**
 * How long one write to a Redis Cluster is tried again while slots move under it (MOVED, ASK, TRYAGAIN, ...), with
 * growing pauses, before the writer gives up and Flink restarts the job, which replays into the same move. A reshard
 * migrates slot after slot, each refusing new keys until its last key has moved: seconds per slot on a busy primary,
 * longer than a fixed few tries lasted.
 */
public final class SlotMoveRetry {

    /** The time a write rides out moving slots. */
    public static final long SETTLE_MS = 30_000;

    private final long start = System.nanoTime();
    private int failedTries;

    /** Counts a failed try and pauses before the next; false, without pausing, once {@link #SETTLE_MS} have passed. */
    public boolean pauseBeforeNextTry() throws InterruptedIOException {
        failedTries++;
        if (elapsedMs() >= SETTLE_MS) {
            return false;
        }
        try {
            Thread.sleep(50L << Math.min(failedTries, 5)); // 100 ms, doubling up to 1.6 s
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a Redis Cluster slot to settle");
        }
        return true;
    }

    /** For the message when it gives up. */
    public String spent() {
        return failedTries + " tries in " + elapsedMs() + " ms";
    }

    private long elapsedMs() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
