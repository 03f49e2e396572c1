package org.ctrranker.jobs.live;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT/SIGTERM) or a time limit asks a long-running command to stop; the JVM's shutdown
 * then waits until the command has cleaned up (job cancelled, servers stopped, temp dirs removed)
 * instead of exiting under it, and exits 0.
 */
public final class StopSignal implements AutoCloseable {

    private static final long CLEANUP_WAIT_SECONDS = 90;

    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch cleanedUp = new CountDownLatch(1);
    private final Thread hook;
    private volatile long deadlineNanos;

    /** {@code seconds} <= 0: no time limit, only Ctrl-C stops. */
    public StopSignal(long seconds) {
        this.deadlineNanos = seconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
        this.hook = new Thread(() -> {
            stop.countDown();
            try {
                if (cleanedUp.await(CLEANUP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    // Stopping on Ctrl-C is the normal end of a live command: everything is cleaned
                    // up, so exit 0 rather than the JVM's 130/143 for a signal.
                    System.out.flush();
                    System.err.flush();
                    Runtime.getRuntime().halt(0);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ctr-stop-on-signal");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Starts (or restarts) the time limit now: {@code seconds} > 0 from here, or none. Commands that
     * start servers first call this once they are up, so a limit measures the live part only.
     */
    public void limitFromNow(long seconds) {
        this.deadlineNanos = seconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
    }

    /** Waits up to {@code millis} (less if the time limit comes first); true when it is time to stop. */
    public boolean await(long millis) throws InterruptedException {
        long deadline = deadlineNanos;
        long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            return true;
        }
        return stop.await(Math.min(millis, left), TimeUnit.MILLISECONDS) || stopRequested();
    }

    public boolean stopRequested() {
        long deadline = deadlineNanos;
        return stop.getCount() == 0 || deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0;
    }

    /** Call after cleaning up: lets a pending shutdown finish and unregisters the hook. */
    @Override
    public void close() {
        cleanedUp.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down (Ctrl-C): the hook is running and now returns
        }
    }
}
