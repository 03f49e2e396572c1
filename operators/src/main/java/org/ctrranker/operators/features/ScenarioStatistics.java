package org.ctrranker.operators.features;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.DoubleStream;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.VersionedWrite;

/**
 * What a sample may use of its scenario's history (the previous and current windows merged), and the
 * AM2 target and BCM weight derived from it (MODEL-NOTES.md 1.3).
 */
public final class ScenarioStatistics {

    /** Ranks published to Redis. */
    static final double[] PUBLISHED_RANKS = {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};

    private final ScenarioWindow merged;
    private final long windowStartMs;
    private final AieConfig config;

    ScenarioStatistics(ScenarioWindow merged, long windowStartMs, AieConfig config) {
        this.merged = merged;
        this.windowStartMs = windowStartMs;
        this.config = config;
    }

    public long count() {
        return merged.count;
    }

    public long positives() {
        return merged.positives;
    }

    public double logPriceMean() {
        return merged.logPriceMean;
    }

    public double logPriceSigma() {
        return merged.logPriceSigma();
    }

    /** Median bid of positives, or NaN until {@code minPositives} were seen. */
    public double referenceBidMicros() {
        return merged.positives < config.minPositives() || merged.positiveBids.isEmpty() ? Double.NaN
                : merged.positiveBids.getQuantile(0.5);
    }

    /** AM2 target: clip((log1p(market price) - mu) / sigma); null until {@code minSamples} samples. */
    public Float marketPriceNorm(long marketPriceMicros) {
        double sigma = merged.logPriceSigma();
        if (merged.count < config.minSamples() || !(sigma > 0)) {
            return null;
        }
        double z = (ScenarioWindow.logPrice(marketPriceMicros) - merged.logPriceMean) / sigma;
        double clip = config.marketPriceZClip();
        return (float) Math.max(-clip, Math.min(clip, z));
    }

    /** BCM weight: 1 for negatives; clip((bid / b_ref)^beta, w_min, w_max) for positives; 1 while b_ref is unknown. */
    public float bcmWeight(int label, long bidMicros) {
        double ref = referenceBidMicros();
        if (label != 1 || Double.isNaN(ref) || ref <= 0) {
            return 1.0f;
        }
        double w = Math.pow(bidMicros / ref, config.bcmBeta());
        return (float) Math.max(config.bcmMinWeight(), Math.min(config.bcmMaxWeight(), w));
    }

    /** Normalized rank error of the sketches (99% confidence, single-sided rank query). */
    public double normalizedRankError() {
        return merged.marketPrices.getNormalizedRankError(false);
    }

    KllDoublesSketch marketPriceSketch() {
        return merged.marketPrices;
    }

    KllDoublesSketch bidSketch() {
        return merged.bids;
    }

    /** The Redis publication of these statistics; version = event time of the data they cover. */
    VersionedWrite publication(String scenario, long versionMs) {
        Map<String, String> fields = new TreeMap<>();
        fields.put("count", Long.toString(merged.count));
        fields.put("positives", Long.toString(merged.positives));
        fields.put("mu", Double.toString(merged.logPriceMean));
        fields.put("sigma", Double.toString(merged.logPriceSigma()));
        double ref = referenceBidMicros();
        fields.put("b_ref_micros", Double.isNaN(ref) ? "" : Long.toString(Math.round(ref)));
        fields.put("quantile_ranks", DoubleStream.of(PUBLISHED_RANKS).mapToObj(Double::toString).collect(Collectors.joining(",")));
        fields.put("bid_quantiles_micros", quantiles(merged.bids));
        fields.put("market_price_quantiles_micros", quantiles(merged.marketPrices));
        fields.put("rank_error", Double.toString(normalizedRankError()));
        fields.put("window_start_ms", Long.toString(windowStartMs));
        fields.put("updated_ms", Long.toString(versionMs));
        return VersionedWrite.ofText(RedisKeys.market(config.redisKeyPrefix(), scenario), versionMs,
                config.redisTtlMs(), fields);
    }

    private static String quantiles(KllDoublesSketch sketch) {
        if (sketch.isEmpty()) {
            return "";
        }
        return DoubleStream.of(sketch.getQuantiles(PUBLISHED_RANKS)).mapToObj(q -> Long.toString(Math.round(q)))
                .collect(Collectors.joining(","));
    }
}
