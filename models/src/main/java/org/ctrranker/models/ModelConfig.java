package org.ctrranker.models;

import java.util.Arrays;
import java.util.Locale;

/**
 * Shape, switches and optimiser settings of one CTR model. Immutable; build with {@link #builder()}.
 *
 * <p>The shape-defining part ({@link #shapeKey()}) is written into every snapshot, so a snapshot
 * only restores into a model of the same shape.
 */
public final class ModelConfig {

    public static final int DEFAULT_HASH_BUCKETS = 1 << 17;
    public static final int DEFAULT_WIDE_BUCKETS = 1 << 18;
    public static final float DEFAULT_WIDE_LEARNING_RATE = 0.01f;

    private final int sparseFields;
    private final int denseFeatures;
    private final int scenarioFields;
    private final int targetField;
    private final int embeddingDim;
    private final int hashBuckets;
    private final int historyLength;
    private final int slotsPerClick;
    private final int[] hiddenLayers;
    private final int crossLayers;
    private final int positions;
    private final boolean fm;
    private final int wideBuckets;
    private final float wideLearningRate;
    private final boolean tem4ctr;
    private final boolean am2;
    private final boolean bcm;
    private final float am2Lambda;
    private final float learningRate;
    private final double bcmBeta;
    private final double bcmMin;
    private final double bcmMax;
    private final long seed;
    private final String device;

    private ModelConfig(Builder b) {
        this.sparseFields = b.sparseFields;
        this.denseFeatures = b.denseFeatures;
        this.scenarioFields = b.scenarioFields;
        this.targetField = b.targetField;
        this.embeddingDim = b.embeddingDim;
        this.hashBuckets = b.hashBuckets;
        this.historyLength = b.historyLength;
        this.slotsPerClick = b.slotsPerClick;
        this.hiddenLayers = b.hiddenLayers.clone();
        this.crossLayers = b.crossLayers;
        this.positions = b.positions;
        this.fm = b.fm;
        this.wideBuckets = b.wideBuckets;
        this.wideLearningRate = b.wideLearningRate;
        this.tem4ctr = b.tem4ctr;
        this.am2 = b.am2;
        this.bcm = b.bcm;
        this.am2Lambda = b.am2Lambda;
        this.learningRate = b.learningRate;
        this.bcmBeta = b.bcmBeta;
        this.bcmMin = b.bcmMin;
        this.bcmMax = b.bcmMax;
        this.seed = b.seed;
        this.device = b.device;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.sparseFields = sparseFields;
        b.denseFeatures = denseFeatures;
        b.scenarioFields = scenarioFields;
        b.targetField = targetField;
        b.embeddingDim = embeddingDim;
        b.hashBuckets = hashBuckets;
        b.historyLength = historyLength;
        b.slotsPerClick = slotsPerClick;
        b.hiddenLayers = hiddenLayers.clone();
        b.crossLayers = crossLayers;
        b.positions = positions;
        b.fm = fm;
        b.wideBuckets = wideBuckets;
        b.wideLearningRate = wideLearningRate;
        b.tem4ctr = tem4ctr;
        b.am2 = am2;
        b.bcm = bcm;
        b.am2Lambda = am2Lambda;
        b.learningRate = learningRate;
        b.bcmBeta = bcmBeta;
        b.bcmMin = bcmMin;
        b.bcmMax = bcmMax;
        b.seed = seed;
        b.device = device;
        return b;
    }

    /** Number of hashed id fields per candidate (user, ad, campaign, advertiser, slot, context...). */
    public int sparseFields() { return sparseFields; }
    /** Number of dense (already scaled) features per candidate. */
    public int denseFeatures() { return denseFeatures; }
    /** Number of hashed scenario ids conditioning the AM2 head (training only). */
    public int scenarioFields() { return scenarioFields; }
    /** The sparse field holding the target item; its ids share the embedding space of the history ids. */
    public int targetField() { return targetField; }
    public int embeddingDim() { return embeddingDim; }
    public int hashBuckets() { return hashBuckets; }
    /** L: the most recent clicks kept in the TEM4CTR history. */
    public int historyLength() { return historyLength; }
    /** K: aligned unclicked exposures per click (K/2 before, K/2 after). */
    public int slotsPerClick() { return slotsPerClick; }
    public int[] hiddenLayers() { return hiddenLayers.clone(); }
    /** Cross-network layers beside the MLP (0: MLP only). */
    public int crossLayers() { return crossLayers; }
    /** Positions with their own additive logit bias (position 0 means "not given" and has none). */
    public int positions() { return positions; }
    /**
     * Wide and FM terms added to the logit (DeepFM style): a learnt scalar per hashed id (trained by Adam
     * with the network, unlike the AdaGrad {@link #wideBuckets() wide part}), and the pairwise dot products
     * of the field embeddings. They learn per-id rates and id x id affinities
     * (user x category, ...) from few samples, which the MLP on concatenated embeddings does slowly.
     * Off by default: measured +0.0005 AUC on MIND and -0.004 on the synthetic log (models/README.md).
     */
    public boolean fm() { return fm; }
    /**
     * The wide part's hashed weights ({@link WideLinear}: a weight per id and dense feature, AdaGrad per
     * sample, added to the logit); 0: no wide part.
     */
    public int wideBuckets() { return wideBuckets; }
    public boolean wide() { return wideBuckets > 0; }
    public float wideLearningRate() { return wideLearningRate; }
    public boolean tem4ctr() { return tem4ctr; }
    public boolean am2() { return am2; }
    public boolean bcm() { return bcm; }
    public float am2Lambda() { return am2Lambda; }
    public float learningRate() { return learningRate; }
    public double bcmBeta() { return bcmBeta; }
    public double bcmMin() { return bcmMin; }
    public double bcmMax() { return bcmMax; }
    public long seed() { return seed; }
    /** auto, cpu or gpu. */
    public String device() { return device; }

    /** What a snapshot must agree on to be restored: everything that shapes a parameter. */
    public String shapeKey() {
        return String.format(Locale.ROOT, "f%d-x%d-s%d-t%d-d%d-h%d-L%d-K%d-m%s-c%d-p%d-fm%b-w%d-tem%b-am2%b",
                sparseFields, denseFeatures, scenarioFields, targetField, embeddingDim, hashBuckets, historyLength,
                slotsPerClick, Arrays.toString(hiddenLayers).replace(" ", ""), crossLayers, positions, fm, wideBuckets,
                tem4ctr, am2);
    }

    @Override
    public String toString() {
        return shapeKey() + String.format(Locale.ROOT, "-bcm%b-lambda%s-lr%s-wlr%s-seed%d-device%s",
                bcm, am2Lambda, learningRate, wideLearningRate, seed, device);
    }

    public static final class Builder {
        private int sparseFields = 6;
        private int denseFeatures = 0;
        private int scenarioFields = 1;
        private int targetField = 1;
        private int embeddingDim = 16;
        private int hashBuckets = DEFAULT_HASH_BUCKETS;
        private int historyLength = 30;
        private int slotsPerClick = 10;
        private int[] hiddenLayers = {200, 80};
        private int crossLayers = 0;
        private int positions = 8;
        private boolean fm = false;
        private int wideBuckets = DEFAULT_WIDE_BUCKETS;
        private float wideLearningRate = DEFAULT_WIDE_LEARNING_RATE;
        private boolean tem4ctr = true;
        private boolean am2 = true;
        private boolean bcm = true;
        private float am2Lambda = 0.1f;
        private float learningRate = 0.002f;
        private double bcmBeta = 0.5;
        private double bcmMin = 0.5;
        private double bcmMax = 3;
        private long seed = 42;
        private String device = "auto";

        public Builder sparseFields(int v) { sparseFields = v; return this; }
        public Builder denseFeatures(int v) { denseFeatures = v; return this; }
        public Builder scenarioFields(int v) { scenarioFields = v; return this; }
        public Builder targetField(int v) { targetField = v; return this; }
        public Builder embeddingDim(int v) { embeddingDim = v; return this; }
        public Builder hashBuckets(int v) { hashBuckets = v; return this; }
        public Builder historyLength(int v) { historyLength = v; return this; }
        public Builder slotsPerClick(int v) { slotsPerClick = v; return this; }
        public Builder hiddenLayers(int... v) { hiddenLayers = v.clone(); return this; }
        public Builder crossLayers(int v) { crossLayers = v; return this; }
        public Builder positions(int v) { positions = v; return this; }
        public Builder fm(boolean v) { fm = v; return this; }
        /** Hashed weights of the wide part; 0 turns it off. */
        public Builder wideBuckets(int v) { wideBuckets = v; return this; }
        public Builder wideLearningRate(float v) { wideLearningRate = v; return this; }
        public Builder tem4ctr(boolean v) { tem4ctr = v; return this; }
        public Builder am2(boolean v) { am2 = v; return this; }
        public Builder bcm(boolean v) { bcm = v; return this; }
        public Builder am2Lambda(float v) { am2Lambda = v; return this; }
        public Builder learningRate(float v) { learningRate = v; return this; }
        /** BCM positive weight g(b) = clip((b / b_ref)^beta, min, max). */
        public Builder bcm(double beta, double min, double max) { bcmBeta = beta; bcmMin = min; bcmMax = max; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder device(String v) { device = v; return this; }

        public ModelConfig build() {
            require(sparseFields >= 1, "sparseFields must be at least 1");
            require(denseFeatures >= 0 && scenarioFields >= 1, "denseFeatures >= 0 and scenarioFields >= 1");
            require(targetField >= 0 && targetField < sparseFields, "targetField must index a sparse field (0.."
                    + (sparseFields - 1) + ")");
            require(embeddingDim >= 1 && hashBuckets >= 16, "embeddingDim >= 1 and hashBuckets >= 16");
            require(historyLength >= 1 && slotsPerClick >= 2 && slotsPerClick % 2 == 0,
                    "historyLength >= 1 and slotsPerClick an even number >= 2");
            require(crossLayers >= 0 && positions >= 1, "crossLayers >= 0 and positions >= 1");
            for (int h : hiddenLayers) {
                require(h >= 1, "hidden layer widths must be positive");
            }
            require(learningRate > 0 && am2Lambda >= 0, "learningRate > 0 and am2Lambda >= 0");
            require(wideBuckets == 0 || wideBuckets >= 16, "wideBuckets is 0 (no wide part) or at least 16");
            require(wideLearningRate > 0, "wideLearningRate > 0");
            require(bcmMin > 0 && bcmMax >= bcmMin, "BCM clip needs 0 < min <= max");
            DeviceChoice.parse(device);
            return new ModelConfig(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("model config: " + message);
            }
        }
    }
}
