package org.ctrranker.operators.scoring;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.ctrranker.events.CtrScore;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.VersionedWrite;

/**
 * The Redis writes of the online stages (layout: operators/REDIS-KEYS.md). Scores are versioned by the
 * auction's event time, models by their version number, so a replay never overwrites newer state.
 */
public final class ServingWrites {

    public static final String FIELD_ADS = "ads";
    public static final String FIELD_PCTR = "pctr";
    public static final String FIELD_ECPM = "ecpm";
    public static final String FIELD_MODEL_NAME = "model_name";
    public static final String FIELD_MODEL_VERSION = "model_version";
    public static final String FIELD_EVENT_TIME = "event_time_ms";
    public static final String FIELD_SCORED_AT = "scored_at_ms";
    public static final String FIELD_AUCTION = "auction_id";

    private ServingWrites() {}

    /**
     * {@code <prefix>:rank:{auction}}: ad ids in rank order with their pCTR and eCPM as parallel
     * comma-separated lists (a hash written whole, so readers never see half a ranking).
     */
    public static VersionedWrite ranking(OnlineConfig config, List<CtrScore> ranked) {
        CtrScore first = ranked.get(0);
        Map<String, String> fields = header(first);
        fields.put(FIELD_ADS, ranked.stream().map(CtrScore::getAdId).collect(Collectors.joining(",")));
        fields.put(FIELD_PCTR, ranked.stream().map(s -> Double.toString(s.getPctr())).collect(Collectors.joining(",")));
        fields.put(FIELD_ECPM, ranked.stream().map(s -> Double.toString(s.getEcpm())).collect(Collectors.joining(",")));
        return VersionedWrite.ofText(RedisKeys.ranking(config.redisKeyPrefix(), first.getAuctionId()),
                first.getEventTimeMs(), config.rankingTtlMs(), fields);
    }

    /** {@code <prefix>:user:{user}:scores}: per ad {@code ad:<ad_id>} = "pCTR,eCPM" of the user's latest auction. */
    public static VersionedWrite userScores(OnlineConfig config, List<CtrScore> ranked) {
        CtrScore first = ranked.get(0);
        Map<String, String> fields = header(first);
        fields.put(FIELD_AUCTION, first.getAuctionId());
        for (CtrScore s : ranked) {
            fields.put("ad:" + s.getAdId(), s.getPctr() + "," + s.getEcpm());
        }
        // Two auctions of one user in the same millisecond: the larger auction id wins, in any order.
        return VersionedWrite.ofText(RedisKeys.userScores(config.redisKeyPrefix(), first.getUserId()),
                first.getEventTimeMs(), config.userScoresTtlMs(), fields).tieBreakOn(FIELD_AUCTION);
    }

    private static Map<String, String> header(CtrScore s) {
        Map<String, String> fields = new TreeMap<>();
        fields.put(FIELD_MODEL_NAME, s.getModelName());
        fields.put(FIELD_MODEL_VERSION, Long.toString(s.getModelVersion()));
        fields.put(FIELD_EVENT_TIME, Long.toString(s.getEventTimeMs()));
        fields.put(FIELD_SCORED_AT, Long.toString(s.getScoredAtMs()));
        return fields;
    }

    /**
     * A version's metadata: {@code :v<n>}, live or rejected; for a live one also {@code :current}. A rejected
     * one never moves {@code :current}. The parameters go to a key of their own ({@link ModelVersionSink}).
     * Fields in operators/REDIS-KEYS.md.
     */
    public static List<VersionedWrite> model(OnlineConfig config, ModelUpdate update) {
        Map<String, String> meta = modelMetadata(update);
        VersionedWrite version = VersionedWrite.ofText(
                RedisKeys.modelVersion(config.redisKeyPrefix(), update.modelName, update.version),
                update.version, config.modelTtlMs(), meta);
        if (!update.live) {
            return List.of(version);
        }
        return List.of(version, VersionedWrite.ofText(RedisKeys.modelCurrent(config.redisKeyPrefix(), update.modelName),
                update.version, config.modelTtlMs(), meta));
    }

    /** The version number itself is the hash's reserved {@code version} field, written by the sink. */
    static Map<String, String> modelMetadata(ModelUpdate update) {
        Map<String, String> meta = new TreeMap<>();
        meta.put("status", update.live ? "live" : "rejected");
        meta.put("live_version", Long.toString(update.liveVersion));
        meta.put("gate_reason", update.gateReason);
        meta.put("holdout_auc", Double.toString(update.holdoutAuc));
        meta.put("live_holdout_auc", Double.toString(update.liveHoldoutAuc));
        meta.put("holdout_samples", Integer.toString(update.holdoutSamples));
        meta.put("holdout_positives", Integer.toString(update.holdoutPositives));
        meta.put("samples_trained", Long.toString(update.samplesTrained));
        meta.put(FIELD_EVENT_TIME, Long.toString(update.eventTimeMs));
        meta.put("newest_sample_time_ms", Long.toString(update.newestSampleTimeMs));
        meta.put("published_processing_time_ms", Long.toString(update.publishedProcessingTimeMs));
        meta.put("progressive_auc", Double.toString(update.progressiveAuc));
        meta.put("progressive_logloss", Double.toString(update.progressiveLogLoss));
        meta.put("parameters_bytes", Integer.toString(update.parameters.length));
        return meta;
    }
}
