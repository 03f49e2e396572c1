package org.ctrranker.jobs.ingest;

/**
 * Holds records back so they leave at their event-time pace multiplied by a speed-up factor
 * (speed-up 60 plays one hour of events in one minute); a factor of 0 means as fast as possible.
 */
public final class EventTimePacer {

    private final double speedup;
    private long firstEventTimeMs = Long.MIN_VALUE;
    private long wallStartNanos;

    public EventTimePacer(double speedup) {
        if (speedup < 0 || Double.isNaN(speedup)) {
            throw new IllegalArgumentException("--speedup must be >= 0 (0 = as fast as possible), got " + speedup);
        }
        this.speedup = speedup;
    }

    /** Waits until the record with this event (delivery) time is due. */
    public void awaitDue(long eventTimeMs) {
        if (speedup == 0) {
            return;
        }
        if (firstEventTimeMs == Long.MIN_VALUE) {
            firstEventTimeMs = eventTimeMs;
            wallStartNanos = System.nanoTime();
            return;
        }
        long dueNanos = wallStartNanos + (long) ((eventTimeMs - firstEventTimeMs) * 1_000_000 / speedup);
        long waitNanos = dueNanos - System.nanoTime();
        if (waitNanos > 1_000_000) {
            try {
                Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while pacing", e);
            }
        }
    }
}
