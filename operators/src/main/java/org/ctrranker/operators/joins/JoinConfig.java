package org.ctrranker.operators.joins;

import java.io.Serializable;
import java.time.Duration;

/**
 * Bounds of the event-time joins, immutable. Defaults: attribution window 30 min, an impression
 * waits 1 min for its auction, an auction is kept 10 min for its impressions, a click waits
 * 2 min for its impression, a labelled impression still recognises late clicks for 2 h, and
 * processing-time state TTL of 6 h as a safety net behind the timers.
 */
public final class JoinConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    public enum DelayedFeedbackMode {
        /** One sample per impression once the window has passed. */
        WAIT_WINDOW,
        /** A negative at once, and a positive copy when the click comes (Ktena et al. 2019). */
        FAKE_NEGATIVE;

        public static DelayedFeedbackMode parse(String text) {
            return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "wait-window" -> WAIT_WINDOW;
                case "fake-negative" -> FAKE_NEGATIVE;
                default -> throw new IllegalArgumentException("delayed-feedback mode '" + text
                        + "' is unknown: use wait-window or fake-negative");
            };
        }
    }

    private final long attributionWindowMs;
    private final long auctionWaitMs;
    private final long auctionRetentionMs;
    private final long clickWaitMs;
    private final long lateClickGraceMs;
    private final long stateTtlMs;
    private final DelayedFeedbackMode mode;

    private JoinConfig(Builder b) {
        this.attributionWindowMs = positive("attribution window", b.attributionWindowMs);
        this.auctionWaitMs = positive("auction wait", b.auctionWaitMs);
        this.auctionRetentionMs = positive("auction retention", b.auctionRetentionMs);
        this.clickWaitMs = positive("click wait", b.clickWaitMs);
        this.lateClickGraceMs = positive("late click grace", b.lateClickGraceMs);
        this.stateTtlMs = positive("state TTL", b.stateTtlMs);
        this.mode = b.mode;
    }

    public static Builder builder() {
        return new Builder();
    }

    public long attributionWindowMs() { return attributionWindowMs; }
    public long auctionWaitMs() { return auctionWaitMs; }
    public long auctionRetentionMs() { return auctionRetentionMs; }
    public long clickWaitMs() { return clickWaitMs; }
    public long lateClickGraceMs() { return lateClickGraceMs; }
    public long stateTtlMs() { return stateTtlMs; }
    public DelayedFeedbackMode mode() { return mode; }

    private static long positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0 ms, got " + value);
        }
        return value;
    }

    public static final class Builder {
        private long attributionWindowMs = Duration.ofMinutes(30).toMillis();
        private long auctionWaitMs = Duration.ofMinutes(1).toMillis();
        private long auctionRetentionMs = Duration.ofMinutes(10).toMillis();
        private long clickWaitMs = Duration.ofMinutes(2).toMillis();
        private long lateClickGraceMs = Duration.ofHours(2).toMillis();
        private long stateTtlMs = Duration.ofHours(6).toMillis();
        private DelayedFeedbackMode mode = DelayedFeedbackMode.WAIT_WINDOW;

        /** W: a click counts for an impression when it happens at most this long after it. */
        public Builder attributionWindowMs(long v) { attributionWindowMs = v; return this; }
        /** How long (event time) an impression waits for its auction before it is rejected. */
        public Builder auctionWaitMs(long v) { auctionWaitMs = v; return this; }
        /** How long (event time) an auction is kept for impressions that refer to it. */
        public Builder auctionRetentionMs(long v) { auctionRetentionMs = v; return this; }
        /** How long (event time) a click that came first waits for its impression before it is an orphan. */
        public Builder clickWaitMs(long v) { clickWaitMs = v; return this; }
        /** How long after W a labelled impression still tells a late click from an orphan. */
        public Builder lateClickGraceMs(long v) { lateClickGraceMs = v; return this; }
        /** Processing-time TTL behind the event-time timers, for keys no timer will ever clear. */
        public Builder stateTtlMs(long v) { stateTtlMs = v; return this; }
        public Builder mode(DelayedFeedbackMode v) { mode = v; return this; }

        public JoinConfig build() {
            return new JoinConfig(this);
        }
    }
}
