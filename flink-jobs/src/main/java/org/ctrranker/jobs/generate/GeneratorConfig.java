package org.ctrranker.jobs.generate;

import java.time.Instant;

/**
 * Settings of the synthetic event generator, with their defaults in one place. Immutable; build
 * with {@link #builder()}. Rates are probabilities per event unless noted.
 */
public final class GeneratorConfig {

    private final long seed;
    private final long auctions;
    private final double auctionsPerSecond;
    private final long startTimeMs;
    private final int users;
    private final int advertisers;
    private final int candidatesPerAuction;
    private final long attributionWindowMs;
    private final double lateClickRate;
    private final double duplicateClickRate;
    private final double orphanClickRate;
    private final double outOfOrderRate;
    private final long maxDisorderMs;
    private final double malformedRate;
    private final double unrenderedRate;

    private GeneratorConfig(Builder b) {
        this.seed = b.seed;
        this.auctions = b.auctions;
        this.auctionsPerSecond = b.auctionsPerSecond;
        this.startTimeMs = b.startTimeMs;
        this.users = b.users;
        this.advertisers = b.advertisers;
        this.candidatesPerAuction = b.candidatesPerAuction;
        this.attributionWindowMs = b.attributionWindowMs;
        this.lateClickRate = b.lateClickRate;
        this.duplicateClickRate = b.duplicateClickRate;
        this.orphanClickRate = b.orphanClickRate;
        this.outOfOrderRate = b.outOfOrderRate;
        this.maxDisorderMs = b.maxDisorderMs;
        this.malformedRate = b.malformedRate;
        this.unrenderedRate = b.unrenderedRate;
        requireAtLeast("auctions", auctions, 0);
        requirePositive("auctions per second (--rate)", auctionsPerSecond);
        requireAtLeast("users", users, 1);
        requireAtLeast("advertisers", advertisers, 1);
        requireAtLeast("candidates per auction", candidatesPerAuction, 1);
        requirePositive("attribution window (--window)", attributionWindowMs);
        requireRate("late click rate", lateClickRate);
        requireRate("duplicate click rate", duplicateClickRate);
        requireRate("orphan click rate", orphanClickRate);
        requireRate("out-of-order rate", outOfOrderRate);
        requireRate("malformed rate", malformedRate);
        requireRate("unrendered rate", unrenderedRate);
        requireAtLeast("max disorder (ms)", maxDisorderMs, 1);
    }

    public static Builder builder() {
        return new Builder();
    }

    public long seed() { return seed; }
    public long auctions() { return auctions; }
    public double auctionsPerSecond() { return auctionsPerSecond; }
    public long startTimeMs() { return startTimeMs; }
    public int users() { return users; }
    public int advertisers() { return advertisers; }
    public int candidatesPerAuction() { return candidatesPerAuction; }
    public long attributionWindowMs() { return attributionWindowMs; }
    public double lateClickRate() { return lateClickRate; }
    public double duplicateClickRate() { return duplicateClickRate; }
    public double orphanClickRate() { return orphanClickRate; }
    public double outOfOrderRate() { return outOfOrderRate; }
    public long maxDisorderMs() { return maxDisorderMs; }
    public double malformedRate() { return malformedRate; }
    public double unrenderedRate() { return unrenderedRate; }

    private static void requireRate(String name, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(name + " must be a probability in [0, 1], got " + value);
        }
    }

    private static void requirePositive(String name, double value) {
        if (!(value > 0)) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    private static void requireAtLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
        }
    }

    /** Defaults give a small, realistic, slightly faulty stream. */
    public static final class Builder {
        private long seed = 1;
        private long auctions = 10_000;
        private double auctionsPerSecond = 200;
        private long startTimeMs = Instant.parse("2026-01-05T00:00:00Z").toEpochMilli();
        private int users = 5_000;
        private int advertisers = 40;
        private int candidatesPerAuction = 8;
        private long attributionWindowMs = 30 * 60_000L;
        private double lateClickRate = 0.02;
        private double duplicateClickRate = 0.03;
        private double orphanClickRate = 0.01;
        private double outOfOrderRate = 0.05;
        private long maxDisorderMs = 3_000;
        private double malformedRate = 0.001;
        private double unrenderedRate = 0.02;

        public Builder seed(long v) { seed = v; return this; }
        /** Auctions (ad requests) to generate. */
        public Builder auctions(long v) { auctions = v; return this; }
        /** Mean auction rate in event time (Poisson arrivals). */
        public Builder auctionsPerSecond(double v) { auctionsPerSecond = v; return this; }
        /** Event time of the first auction, epoch millis; fixed by default so a seed fixes every byte. */
        public Builder startTimeMs(long v) { startTimeMs = v; return this; }
        public Builder users(int v) { users = v; return this; }
        public Builder advertisers(int v) { advertisers = v; return this; }
        public Builder candidatesPerAuction(int v) { candidatesPerAuction = v; return this; }
        /** The attribution window W that decides which clicks are late. */
        public Builder attributionWindowMs(long v) { attributionWindowMs = v; return this; }
        /** Share of clicks that arrive after the attribution window. */
        public Builder lateClickRate(double v) { lateClickRate = v; return this; }
        /** Share of clicks that are sent twice. */
        public Builder duplicateClickRate(double v) { duplicateClickRate = v; return this; }
        /** Orphan clicks (no such impression) per real click. */
        public Builder orphanClickRate(double v) { orphanClickRate = v; return this; }
        /** Share of records delivered late, up to {@link #maxDisorderMs}, behind later records. */
        public Builder outOfOrderRate(double v) { outOfOrderRate = v; return this; }
        public Builder maxDisorderMs(long v) { maxDisorderMs = v; return this; }
        /** Malformed records inserted per valid record (undecodable or invalid values). */
        public Builder malformedRate(double v) { malformedRate = v; return this; }
        /** Share of auction winners that never render (an auction without impressions). */
        public Builder unrenderedRate(double v) { unrenderedRate = v; return this; }

        /** Everything off: no late, duplicate, orphan, out-of-order, malformed or unrendered events. */
        public Builder noFaults() {
            lateClickRate = 0;
            duplicateClickRate = 0;
            orphanClickRate = 0;
            outOfOrderRate = 0;
            malformedRate = 0;
            unrenderedRate = 0;
            return this;
        }

        public GeneratorConfig build() {
            return new GeneratorConfig(this);
        }
    }
}
