package org.ctrranker.operators.features;

import java.io.Serializable;
import java.util.Properties;

/**
 * Settings of the AIE auction statistics (MODEL-NOTES.md 1.3). Immutable; {@link #builder()} or
 * {@link #fromProperties(Properties)}. Defaults are those documented in
 * flink-jobs/src/main/resources/ctr-ranker-defaults.properties (a test keeps the two equal).
 */
public final class AieConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String SKETCH_K = "ctr.features.aie.sketch-k";
    public static final String WINDOW_MS = "ctr.features.aie.window-ms";
    public static final String MIN_SAMPLES = "ctr.features.aie.min-samples";
    public static final String MIN_POSITIVES = "ctr.features.aie.min-positives";
    public static final String MARKET_PRICE_Z_CLIP = "ctr.features.aie.market-price-z-clip";
    public static final String BCM_BETA = "ctr.features.aie.bcm-beta";
    public static final String BCM_MIN_WEIGHT = "ctr.features.aie.bcm-min-weight";
    public static final String BCM_MAX_WEIGHT = "ctr.features.aie.bcm-max-weight";
    public static final String PUBLISH_INTERVAL_MS = "ctr.features.aie.publish-interval-ms";
    public static final String REDIS_TTL_MS = "ctr.features.aie.redis-ttl-ms";
    public static final String REDIS_KEY_PREFIX = "ctr.redis.key-prefix";

    private final int sketchK;
    private final long windowMs;
    private final long minSamples;
    private final long minPositives;
    private final double marketPriceZClip;
    private final double bcmBeta;
    private final double bcmMinWeight;
    private final double bcmMaxWeight;
    private final long publishIntervalMs;
    private final long redisTtlMs;
    private final String redisKeyPrefix;

    private AieConfig(Builder b) {
        if (b.sketchK < 8 || b.sketchK > 65_535) {
            throw new IllegalArgumentException("KLL k must be in [8, 65535]: " + b.sketchK);
        }
        if (b.windowMs <= 0 || b.publishIntervalMs <= 0 || b.redisTtlMs <= 0) {
            throw new IllegalArgumentException("window, publish interval and TTL must be positive");
        }
        if (b.minSamples < 2 || b.minPositives < 1) {
            throw new IllegalArgumentException("need at least 2 samples and 1 positive before statistics are used");
        }
        if (!(b.bcmMinWeight > 0 && b.bcmMinWeight <= 1 && b.bcmMaxWeight >= 1) || b.bcmBeta < 0 || !(b.marketPriceZClip > 0)) {
            throw new IllegalArgumentException("BCM clip must contain 1, beta >= 0, z clip > 0");
        }
        this.sketchK = b.sketchK;
        this.windowMs = b.windowMs;
        this.minSamples = b.minSamples;
        this.minPositives = b.minPositives;
        this.marketPriceZClip = b.marketPriceZClip;
        this.bcmBeta = b.bcmBeta;
        this.bcmMinWeight = b.bcmMinWeight;
        this.bcmMaxWeight = b.bcmMaxWeight;
        this.publishIntervalMs = b.publishIntervalMs;
        this.redisTtlMs = b.redisTtlMs;
        this.redisKeyPrefix = b.redisKeyPrefix;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static AieConfig defaults() {
        return builder().build();
    }

    /** Reads the keys above from a settings map (e.g. the job's resolved configuration). */
    public static AieConfig fromSettings(java.util.Map<String, String> settings) {
        Properties p = new Properties();
        p.putAll(settings);
        return fromProperties(p);
    }

    public static AieConfig fromProperties(Properties p) {
        Builder b = builder();
        b.sketchK(Integer.parseInt(p.getProperty(SKETCH_K, String.valueOf(b.sketchK))));
        b.windowMs(Long.parseLong(p.getProperty(WINDOW_MS, String.valueOf(b.windowMs))));
        b.minSamples(Long.parseLong(p.getProperty(MIN_SAMPLES, String.valueOf(b.minSamples))));
        b.minPositives(Long.parseLong(p.getProperty(MIN_POSITIVES, String.valueOf(b.minPositives))));
        b.marketPriceZClip(Double.parseDouble(p.getProperty(MARKET_PRICE_Z_CLIP, String.valueOf(b.marketPriceZClip))));
        b.bcmBeta(Double.parseDouble(p.getProperty(BCM_BETA, String.valueOf(b.bcmBeta))));
        b.bcmMinWeight(Double.parseDouble(p.getProperty(BCM_MIN_WEIGHT, String.valueOf(b.bcmMinWeight))));
        b.bcmMaxWeight(Double.parseDouble(p.getProperty(BCM_MAX_WEIGHT, String.valueOf(b.bcmMaxWeight))));
        b.publishIntervalMs(Long.parseLong(p.getProperty(PUBLISH_INTERVAL_MS, String.valueOf(b.publishIntervalMs))));
        b.redisTtlMs(Long.parseLong(p.getProperty(REDIS_TTL_MS, String.valueOf(b.redisTtlMs))));
        b.redisKeyPrefix(p.getProperty(REDIS_KEY_PREFIX, b.redisKeyPrefix));
        return b.build();
    }

    /** KLL k: accuracy (normalized rank error about 1.65% at k = 200, 99% confidence) vs. size. */
    public int sketchK() {
        return sketchK;
    }

    /** Length of one statistics window; a sample sees the previous full window plus the current one. */
    public long windowMs() {
        return windowMs;
    }

    /** Samples in the scenario's windows before market_price_norm is set (else null). */
    public long minSamples() {
        return minSamples;
    }

    /** Positives in the scenario's windows before BCM weights differ from 1. */
    public long minPositives() {
        return minPositives;
    }

    /** market_price_norm is clipped to [-clip, clip] standard deviations. */
    public double marketPriceZClip() {
        return marketPriceZClip;
    }

    public double bcmBeta() {
        return bcmBeta;
    }

    public double bcmMinWeight() {
        return bcmMinWeight;
    }

    public double bcmMaxWeight() {
        return bcmMaxWeight;
    }

    /** At most one Redis publication of a scenario's statistics per this much event time. */
    public long publishIntervalMs() {
        return publishIntervalMs;
    }

    public long redisTtlMs() {
        return redisTtlMs;
    }

    public String redisKeyPrefix() {
        return redisKeyPrefix;
    }

    public static final class Builder {
        private int sketchK = 200;
        private long windowMs = 3_600_000L;
        private long minSamples = 100;
        private long minPositives = 20;
        private double marketPriceZClip = 5.0;
        private double bcmBeta = 0.5;
        private double bcmMinWeight = 0.5;
        private double bcmMaxWeight = 3.0;
        private long publishIntervalMs = 60_000L;
        private long redisTtlMs = 604_800_000L;
        private String redisKeyPrefix = "ctr";

        private Builder() {}

        public Builder sketchK(int k) {
            this.sketchK = k;
            return this;
        }

        public Builder windowMs(long ms) {
            this.windowMs = ms;
            return this;
        }

        public Builder minSamples(long n) {
            this.minSamples = n;
            return this;
        }

        public Builder minPositives(long n) {
            this.minPositives = n;
            return this;
        }

        public Builder marketPriceZClip(double clip) {
            this.marketPriceZClip = clip;
            return this;
        }

        public Builder bcmBeta(double beta) {
            this.bcmBeta = beta;
            return this;
        }

        public Builder bcmMinWeight(double w) {
            this.bcmMinWeight = w;
            return this;
        }

        public Builder bcmMaxWeight(double w) {
            this.bcmMaxWeight = w;
            return this;
        }

        public Builder publishIntervalMs(long ms) {
            this.publishIntervalMs = ms;
            return this;
        }

        public Builder redisTtlMs(long ms) {
            this.redisTtlMs = ms;
            return this;
        }

        public Builder redisKeyPrefix(String prefix) {
            this.redisKeyPrefix = prefix;
            return this;
        }

        public AieConfig build() {
            return new AieConfig(this);
        }
    }
}
