package org.ctrranker.operators.ingest;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;

/**
 * Bounds on event times that separate a plausible record from a broken one. Absolute bounds rather
 * than ones relative to the watermark, so that replays of old logs stay valid. Immutable.
 */
public final class ValidationRules implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Events before 2000-01-01 are taken for broken clocks or unset fields. */
    public static final long DEFAULT_MIN_EVENT_TIME_MS = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();
    public static final long DEFAULT_MAX_FUTURE_MS = Duration.ofDays(1).toMillis();

    private final long minEventTimeMs;
    private final long maxFutureMs;

    public ValidationRules(long minEventTimeMs, long maxFutureMs) {
        if (maxFutureMs < 0) {
            throw new IllegalArgumentException("max future must be >= 0 ms, got " + maxFutureMs);
        }
        this.minEventTimeMs = minEventTimeMs;
        this.maxFutureMs = maxFutureMs;
    }

    public static ValidationRules defaults() {
        return new ValidationRules(DEFAULT_MIN_EVENT_TIME_MS, DEFAULT_MAX_FUTURE_MS);
    }

    public long minEventTimeMs() {
        return minEventTimeMs;
    }

    /** @return null when plausible, else why not */
    String checkEventTime(String field, long eventTimeMs, long nowMs) {
        if (eventTimeMs < minEventTimeMs) {
            return field + " " + eventTimeMs + " is before " + Instant.ofEpochMilli(minEventTimeMs);
        }
        if (eventTimeMs > nowMs + maxFutureMs) {
            return field + " " + Instant.ofEpochMilli(eventTimeMs) + " is more than " + maxFutureMs
                    + " ms in the future";
        }
        return null;
    }
}
