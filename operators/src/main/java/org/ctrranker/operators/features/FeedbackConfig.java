package org.ctrranker.operators.features;

import java.io.Serializable;
import java.util.Properties;

/**
 * Settings of the TEM4CTR user feedback state. Immutable; build with {@link #builder()} or read from
 * job properties with {@link #fromProperties(Properties)}. The defaults here are the ones documented in
 * flink-jobs/src/main/resources/ctr-ranker-defaults.properties (a test keeps the two equal).
 */
public final class FeedbackConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String MAX_CLICKS = "ctr.features.feedback.max-clicks";
    public static final String UNCLICKS_PER_SIDE = "ctr.features.feedback.unclicks-per-side";
    public static final String ATTRIBUTION_WINDOW_MS = "ctr.attribution.window-ms";
    public static final String MAX_OPEN_EXPOSURES = "ctr.features.feedback.max-open-exposures";
    public static final String FATIGUE_EXPOSURES = "ctr.features.feedback.fatigue-exposures";
    public static final String USER_IDLE_TIMEOUT_MS = "ctr.features.feedback.user-idle-timeout-ms";
    public static final String STATE_TTL_MS = "ctr.features.feedback.state-ttl-ms";
    public static final String REDIS_TTL_MS = "ctr.features.feedback.redis-ttl-ms";
    public static final String MIRROR_INTERVAL_MS = "ctr.features.feedback.mirror-interval-ms";
    public static final String REDIS_KEY_PREFIX = "ctr.redis.key-prefix";

    /** How far back the model's fatigue features look (evaluate's and the synthetic world's hour). */
    public static final long FATIGUE_HORIZON_MS = 60 * 60_000L;

    private final int maxClicks;
    private final int unclicksPerSide;
    private final long attributionWindowMs;
    private final int maxOpenExposures;
    private final int fatigueExposures;
    private final long userIdleTimeoutMs;
    private final long stateTtlMs;
    private final long redisTtlMs;
    private final long mirrorIntervalMs;
    private final String redisKeyPrefix;

    private FeedbackConfig(Builder b) {
        if (b.maxClicks < 1 || b.unclicksPerSide < 1) {
            throw new IllegalArgumentException("L and R must be at least 1, got L=" + b.maxClicks + " R=" + b.unclicksPerSide);
        }
        if (b.attributionWindowMs <= 0) {
            throw new IllegalArgumentException("attribution window must be positive: " + b.attributionWindowMs);
        }
        // A user must outlive its newest exposure's window, or expiry would cut a label-in-progress.
        if (b.userIdleTimeoutMs <= b.attributionWindowMs) {
            throw new IllegalArgumentException("user idle timeout " + b.userIdleTimeoutMs
                    + " ms must exceed the attribution window " + b.attributionWindowMs + " ms");
        }
        if (b.mirrorIntervalMs < 1) {
            throw new IllegalArgumentException(MIRROR_INTERVAL_MS + " must be at least 1, got " + b.mirrorIntervalMs);
        }
        if (b.fatigueExposures < 1) {
            throw new IllegalArgumentException(FATIGUE_EXPOSURES + " must be at least 1, got " + b.fatigueExposures);
        }
        if (b.maxOpenExposures < 1 || b.stateTtlMs <= 0 || b.redisTtlMs <= 0) {
            throw new IllegalArgumentException("max open exposures and TTLs must be positive");
        }
        this.maxClicks = b.maxClicks;
        this.unclicksPerSide = b.unclicksPerSide;
        this.attributionWindowMs = b.attributionWindowMs;
        this.maxOpenExposures = b.maxOpenExposures;
        this.fatigueExposures = b.fatigueExposures;
        this.userIdleTimeoutMs = b.userIdleTimeoutMs;
        this.stateTtlMs = b.stateTtlMs;
        this.redisTtlMs = b.redisTtlMs;
        this.mirrorIntervalMs = b.mirrorIntervalMs;
        this.redisKeyPrefix = b.redisKeyPrefix;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static FeedbackConfig defaults() {
        return builder().build();
    }

    /** Reads the keys above from a settings map (e.g. the job's resolved configuration). */
    public static FeedbackConfig fromSettings(java.util.Map<String, String> settings) {
        Properties p = new Properties();
        p.putAll(settings);
        return fromProperties(p);
    }

    /** Reads the keys above; a key that is absent keeps its default. */
    public static FeedbackConfig fromProperties(Properties p) {
        Builder b = builder();
        b.maxClicks(Integer.parseInt(p.getProperty(MAX_CLICKS, String.valueOf(b.maxClicks))));
        b.unclicksPerSide(Integer.parseInt(p.getProperty(UNCLICKS_PER_SIDE, String.valueOf(b.unclicksPerSide))));
        b.attributionWindowMs(Long.parseLong(p.getProperty(ATTRIBUTION_WINDOW_MS, String.valueOf(b.attributionWindowMs))));
        b.maxOpenExposures(Integer.parseInt(p.getProperty(MAX_OPEN_EXPOSURES, String.valueOf(b.maxOpenExposures))));
        b.fatigueExposures(Integer.parseInt(p.getProperty(FATIGUE_EXPOSURES, String.valueOf(b.fatigueExposures))));
        b.userIdleTimeoutMs(Long.parseLong(p.getProperty(USER_IDLE_TIMEOUT_MS, String.valueOf(b.userIdleTimeoutMs))));
        b.stateTtlMs(Long.parseLong(p.getProperty(STATE_TTL_MS, String.valueOf(b.stateTtlMs))));
        b.redisTtlMs(Long.parseLong(p.getProperty(REDIS_TTL_MS, String.valueOf(b.redisTtlMs))));
        b.mirrorIntervalMs(Long.parseLong(p.getProperty(MIRROR_INTERVAL_MS, String.valueOf(b.mirrorIntervalMs))));
        b.redisKeyPrefix(p.getProperty(REDIS_KEY_PREFIX, b.redisKeyPrefix));
        return b.build();
    }

    /** L: how many of the user's most recent clicks a snapshot carries. */
    public int maxClicks() {
        return maxClicks;
    }

    /** R: unclicked exposures aligned on each side of a click, and the size of the recent-unclicks list. */
    public int unclicksPerSide() {
        return unclicksPerSide;
    }

    /** W: an exposure without a click is unclicked once W has passed in event time. */
    public long attributionWindowMs() {
        return attributionWindowMs;
    }

    /**
     * Bound on exposures whose window is still open at an impression's event time, per user; beyond it
     * the oldest is evicted (a metric counts it). Applied in event-time order, so replays evict the same.
     */
    public int maxOpenExposures() {
        return maxOpenExposures;
    }

    /**
     * N: of the user's exposures in the {@link #FATIGUE_HORIZON_MS} before a point in time, the last N are what the
     * model's fatigue features count (clicked or not, open windows included), as evaluate counts them.
     */
    public int fatigueExposures() {
        return fatigueExposures;
    }

    /** Event time without any event of the user after which its state is dropped (event-time timer). */
    public long userIdleTimeoutMs() {
        return userIdleTimeoutMs;
    }

    /** Processing-time state TTL: the safety net behind the idle timer. */
    public long stateTtlMs() {
        return stateTtlMs;
    }

    /** TTL of the Redis mirror key, refreshed by every applied write. */
    public long redisTtlMs() {
        return redisTtlMs;
    }

    /**
     * The Redis mirror writes a user's state as of the end of each interval of event time in which it changed (its
     * ends on a grid from epoch 0), not at every change: a heavy user's snapshot changes at every impression.
     */
    public long mirrorIntervalMs() {
        return mirrorIntervalMs;
    }

    public String redisKeyPrefix() {
        return redisKeyPrefix;
    }

    public static final class Builder {
        private int maxClicks = 30;
        private int unclicksPerSide = 5;
        private long attributionWindowMs = 1_800_000L;
        private int maxOpenExposures = 1_000;
        private int fatigueExposures = 300;
        private long userIdleTimeoutMs = 604_800_000L;
        private long stateTtlMs = 1_209_600_000L;
        private long redisTtlMs = 604_800_000L;
        private long mirrorIntervalMs = 1_000L;
        private String redisKeyPrefix = "ctr";

        private Builder() {}

        public Builder maxClicks(int l) {
            this.maxClicks = l;
            return this;
        }

        public Builder unclicksPerSide(int r) {
            this.unclicksPerSide = r;
            return this;
        }

        public Builder attributionWindowMs(long w) {
            this.attributionWindowMs = w;
            return this;
        }

        public Builder maxOpenExposures(int n) {
            this.maxOpenExposures = n;
            return this;
        }

        public Builder fatigueExposures(int n) {
            this.fatigueExposures = n;
            return this;
        }

        public Builder userIdleTimeoutMs(long ms) {
            this.userIdleTimeoutMs = ms;
            return this;
        }

        public Builder stateTtlMs(long ms) {
            this.stateTtlMs = ms;
            return this;
        }

        public Builder redisTtlMs(long ms) {
            this.redisTtlMs = ms;
            return this;
        }

        public Builder mirrorIntervalMs(long ms) {
            this.mirrorIntervalMs = ms;
            return this;
        }

        public Builder redisKeyPrefix(String prefix) {
            this.redisKeyPrefix = prefix;
            return this;
        }

        public FeedbackConfig build() {
            return new FeedbackConfig(this);
        }
    }
}
