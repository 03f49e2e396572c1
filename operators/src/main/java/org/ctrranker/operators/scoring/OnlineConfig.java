package org.ctrranker.operators.scoring;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.operators.features.FeedbackConfig;
import org.ctrranker.operators.features.ItemStatisticsConfig;

/**
 * Settings of the online stages (scorer, trainer, their Redis keys), read from the job's flat settings
 * ({@code ctr.model.*}, {@code ctr.scoring.*}, {@code ctr.training.*}; defaults and meaning in
 * ctr-ranker-defaults.properties). Immutable and serializable: functions build the {@link ModelConfig}
 * from it when they open.
 */
public final class OnlineConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The defaults file's value, for callers (tools, tests) that build the settings themselves. */
    static final long DEFAULT_STATE_LAG_MS = 15_000;
    static final long DEFAULT_MAX_WAIT_MS = 200;

    private final String modelName;
    private final String device;
    private final int embeddingDim;
    private final int hashBuckets;
    private final int[] hiddenLayers;
    private final float learningRate;
    private final int wideBuckets;
    private final float wideLearningRate;
    private final long seed;
    private final int historyLength;
    private final int slotsPerClick;
    private final int batchMaxAuctions;
    private final long batchMaxDelayMs;
    private final long stateLagMs;
    private final long maxWaitMs;
    private final boolean replayExactScores;
    private final long scorerFailAfterAuctions;
    private final int trainingBatchSize;
    private final long publishEverySamples;
    private final int metricsWindow;
    private final long attributionWindowMs;
    private final long userIdleTimeoutMs;
    private final long itemIdleTimeoutMs;
    private final String redisKeyPrefix;
    private final long rankingTtlMs;
    private final long userScoresTtlMs;
    private final long modelTtlMs;
    private final QualityGate gate;
    private final long trainerFailAfterSamples;
    private final long predictionLogFromMs;
    private final boolean resetModelOnShapeChange;

    private OnlineConfig(Map<String, String> s) {
        modelName = text(s, "ctr.model.name");
        device = text(s, "ctr.model.device");
        embeddingDim = (int) number(s, "ctr.model.embedding-dim", 1);
        hashBuckets = (int) number(s, "ctr.model.hash-buckets", 16);
        hiddenLayers = Arrays.stream(text(s, "ctr.model.hidden-layers").split(",")).map(String::trim)
                .mapToInt(Integer::parseInt).toArray();
        learningRate = Float.parseFloat(text(s, "ctr.model.learning-rate"));
        wideBuckets = (int) number(s, "ctr.model.wide-buckets", 0, ModelConfig.DEFAULT_WIDE_BUCKETS);
        wideLearningRate = (float) decimal(s, "ctr.model.wide-learning-rate", ModelConfig.DEFAULT_WIDE_LEARNING_RATE);
        seed = number(s, "ctr.model.seed", 0);
        historyLength = (int) number(s, "ctr.features.feedback.max-clicks", 1);
        slotsPerClick = 2 * (int) number(s, "ctr.features.feedback.unclicks-per-side", 1);
        batchMaxAuctions = (int) number(s, "ctr.scoring.batch-max-auctions", 1);
        batchMaxDelayMs = number(s, "ctr.scoring.batch-max-delay-ms", 0);
        stateLagMs = number(s, "ctr.scoring.state-lag-ms", 1, DEFAULT_STATE_LAG_MS);
        maxWaitMs = number(s, "ctr.scoring.max-wait-ms", 0, DEFAULT_MAX_WAIT_MS);
        replayExactScores = flag(s, "ctr.scoring.replay-exact", true);
        scorerFailAfterAuctions = number(s, "ctr.fault-injection.scorer-fail-after-auctions", 0, 0);
        String outOfOrderness = s.get("ctr.watermark.max-out-of-orderness-ms");
        if (outOfOrderness != null && !outOfOrderness.isBlank() && stateLagMs <= Long.parseLong(outOfOrderness.trim())) {
            throw new IllegalArgumentException("ctr.scoring.state-lag-ms=" + stateLagMs
                    + " must exceed ctr.watermark.max-out-of-orderness-ms=" + outOfOrderness.trim()
                    + ": raise the lag (or lower the out-of-orderness), else most auctions wait for the watermark");
        }
        trainingBatchSize = (int) number(s, "ctr.training.batch-size", 1);
        publishEverySamples = number(s, "ctr.training.publish-every-samples", 1);
        metricsWindow = (int) number(s, "ctr.training.metrics-window", 2);
        attributionWindowMs = number(s, "ctr.attribution.window-ms", 1);
        userIdleTimeoutMs = number(s, FeedbackConfig.USER_IDLE_TIMEOUT_MS, 1,
                FeedbackConfig.defaults().userIdleTimeoutMs());
        itemIdleTimeoutMs = number(s, ItemStatisticsConfig.IDLE_TIMEOUT_MS, 1,
                ItemStatisticsConfig.defaults().idleTimeoutMs());
        redisKeyPrefix = text(s, "ctr.redis.key-prefix");
        rankingTtlMs = number(s, "ctr.scoring.ranking-redis-ttl-ms", 1);
        userScoresTtlMs = number(s, "ctr.scoring.user-scores-redis-ttl-ms", 1);
        modelTtlMs = number(s, "ctr.training.model-redis-ttl-ms", 1);
        // Newer keys fall back to the defaults of ctr-ranker-defaults.properties, so settings written before them still load.
        gate = new QualityGate((int) number(s, "ctr.training.holdout-percent", 0, 5),
                (int) number(s, "ctr.training.holdout-window", 1, 5000),
                decimal(s, "ctr.training.gate-max-auc-drop", 0.005),
                (int) number(s, "ctr.training.gate-min-positives", 0, 50));
        if (gate.holdoutPercent() > 50) {
            throw new IllegalArgumentException("ctr.training.holdout-percent=" + gate.holdoutPercent() + " must be at most 50");
        }
        trainerFailAfterSamples = number(s, "ctr.fault-injection.trainer-fail-after-samples", 0, 0);
        String from = s.get("ctr.training.prediction-log-from-ms");
        predictionLogFromMs = from == null || from.isBlank() ? Long.MAX_VALUE : Long.parseLong(from.trim());
        resetModelOnShapeChange = flag(s, RESET_MODEL_ON_SHAPE_CHANGE, false);
    }

    public static OnlineConfig fromSettings(Map<String, String> settings) {
        return new OnlineConfig(settings);
    }

    /** The model every scorer and the trainer build: same shape, so trainer snapshots restore into scorers. */
    public ModelConfig modelConfig() {
        return ModelInputs.shape(ModelConfig.builder())
                .embeddingDim(embeddingDim).hashBuckets(hashBuckets).hiddenLayers(hiddenLayers)
                .historyLength(historyLength).slotsPerClick(slotsPerClick)
                .learningRate(learningRate).wideBuckets(wideBuckets).wideLearningRate(wideLearningRate)
                .seed(seed).device(device)
                // BCM weights come from the job's AIE stage (TrainingSample.bcm_weight), not the model's own.
                .bcm(false)
                .build();
    }

    public String modelName() { return modelName; }
    public int batchMaxAuctions() { return batchMaxAuctions; }
    public int historyLength() { return historyLength; }
    public int slotsPerClick() { return slotsPerClick; }
    public long batchMaxDelayMs() { return batchMaxDelayMs; }
    /** Scoring inputs (feedback snapshot, model version) are those known at request time minus this. */
    public long stateLagMs() { return stateLagMs; }
    /**
     * Processing time an auction waits at most for the watermark to fix its inputs; then it is scored with
     * those that have arrived. 0: no bound (replay-exact however far the watermark falls behind).
     */
    public long maxWaitMs() { return maxWaitMs; }
    public boolean replayExactScores() { return replayExactScores; }
    /** Chaos testing: each scorer subtask fails once, on the first attempt, after this many auctions; 0: never. */
    public long scorerFailAfterAuctions() { return scorerFailAfterAuctions; }
    public int trainingBatchSize() { return trainingBatchSize; }
    public long publishEverySamples() { return publishEverySamples; }
    public int metricsWindow() { return metricsWindow; }
    public long attributionWindowMs() { return attributionWindowMs; }
    /** Event time without a new snapshot of a user after which the scorer drops the user's snapshots. */
    public long userIdleTimeoutMs() { return userIdleTimeoutMs; }
    /** The scorer forgets an ad's counts as the item statistics stage does ({@link ItemStatisticsConfig#idleTimeoutMs}). */
    public long itemIdleTimeoutMs() { return itemIdleTimeoutMs; }
    public String redisKeyPrefix() { return redisKeyPrefix; }
    public long rankingTtlMs() { return rankingTtlMs; }
    public long userScoresTtlMs() { return userScoresTtlMs; }
    public long modelTtlMs() { return modelTtlMs; }
    /** Held-out slice and quality gate of the trainer ({@code ctr.training.holdout-*}, {@code ctr.training.gate-*}). */
    public QualityGate gate() { return gate; }
    /** Chaos testing: the trainer fails once, on its first attempt, after this many trained samples; 0 = never. */
    public long trainerFailAfterSamples() { return trainerFailAfterSamples; }
    /**
     * Diagnostics ({@code ctr.training.prediction-log-from-ms}): the trainer logs the progressive prediction of
     * every trained sample with an impression time at or after this instant, and every training step's fingerprint
     * ({@link ProgressivePredictions}); {@link Long#MAX_VALUE} (unset) = off.
     */
    public long predictionLogFromMs() { return predictionLogFromMs; }

    public static final String RESET_MODEL_ON_SHAPE_CHANGE = "ctr.training.reset-model-on-shape-change";

    /**
     * Restored model state of another shape than this build and settings make (a build whose model takes other
     * inputs, or changed {@code ctr.model.*}) is dropped, the model starting afresh, instead of refused
     * ({@link RestoredModelShape}).
     */
    public boolean resetModelOnShapeChange() { return resetModelOnShapeChange; }

    private static String text(Map<String, String> s, String key) {
        String v = s.get(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(key + " is not set: see ctr-ranker-defaults.properties");
        }
        return v.trim();
    }

    private static long number(Map<String, String> s, String key, long min, long fallback) {
        String v = s.get(key);
        return v == null || v.isBlank() ? fallback : number(s, key, min);
    }

    private static boolean flag(Map<String, String> s, String key, boolean fallback) {
        String v = s.get(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return switch (v.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(key + "=" + v + " must be true or false");
        };
    }

    private static double decimal(Map<String, String> s, String key, double fallback) {
        String v = s.get(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d >= 0)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not a non-negative number");
        }
    }

    private static long number(Map<String, String> s, String key, long min) {
        String v = text(s, key);
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not a whole number");
        }
        if (n < min) {
            throw new IllegalArgumentException(key + "=" + v + " must be at least " + min);
        }
        return n;
    }
}
