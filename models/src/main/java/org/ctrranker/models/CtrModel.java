package org.ctrranker.models;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.ctrranker.models.nn.CtrLoss;
import org.ctrranker.models.nn.CtrNetwork;

/**
 * The CTR model behind the job: train on a batch, score a batch, snapshot to bytes and restore.
 *
 * <p>Threading: an instance is confined to one thread (a Flink subtask); it is not thread-safe.
 * Several instances may live in one JVM (one PyTorch engine per JVM): training steps are
 * serialised JVM-wide because PyTorch's autograd recorder is global in DJL. Set
 * {@code -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1} per subtask on small
 * machines; intra-op threads help only large batches. Every thread that creates, trains or scores a model runs
 * with that count ({@link IntraOpThreads}).
 *
 * <p>Memory: each call works inside its own NDManager scope, closed before returning; only the
 * parameters and the optimiser state stay native between calls.
 */
public final class CtrModel implements AutoCloseable {

    /**
     * Snapshot format: magic "CTRM", then this version. Bump when the layout below changes. v4 writes each array
     * as {@link ChangedRows} does: the embedding table as its rows that differ from the initial draw of the seed it
     * names, when they are fewer. v3 wrote each parameter whole as {@link FloatArrays} does; v2 used DJL's parameter
     * encoding, which copies every array whole several times. v2 and v3 snapshots still restore.
     */
    public static final int FORMAT_VERSION = 4;
    private static final int OLDEST_READABLE_FORMAT_VERSION = 2;
    private static final int MAGIC = 0x4354524D;
    /**
     * Training checkpoint format: magic "CTRK", then this version. v4 holds a v4 snapshot and the optimisers' state
     * as changed rows against zeros, with the embedding table's rows' ages ({@link LiveRows}); v3 (without the ages:
     * dense Adam) and v2 checkpoints still restore.
     */
    public static final int CHECKPOINT_FORMAT_VERSION = 4;
    private static final int OLDEST_READABLE_CHECKPOINT_FORMAT_VERSION = 2;
    private static final int CHECKPOINT_MAGIC = 0x4354524B;
    /** Candidate batch sizes the scorer pads to (and warms up); larger requests are split. */
    static final int[] BUCKETS = {1, 4, 16, 64, 256, 1024};
    /** The shortest history arrays of {@link #scoreBatchInvariant}'s calls, in clicks (at most L). */
    public static final int BATCH_INVARIANT_HISTORY = 16;
    /**
     * Calls of {@link #scoreBatchInvariant}: at least 16 rows (a one-row call takes another kernel), at most 64 (a
     * larger micro-batch is cut into calls of 64 rows: fewer padded rows, and the per-candidate attention's
     * intermediate arrays stay in cache).
     */
    private static final CallRows BATCH_INVARIANT_ROWS = new CallRows(16, 64);
    private static final CallRows ALL_ROWS = new CallRows(1, BUCKETS[BUCKETS.length - 1]);

    /** The smallest and the largest model call, in rows: padding buckets. */
    private record CallRows(int min, int max) {}
    private static final ReentrantLock TRAINING = new ReentrantLock();

    private final ModelConfig config;
    private final Device device;
    private final NDManager manager;
    private final CtrNetwork network;
    private final BatchEncoder encoder;
    private final ParameterStore store;
    private final CheckpointedAdam optimizer;
    /** Null when the config has no wide part. */
    private final WideLinear wide;
    private final RunningStats marketPrice = new RunningStats(20_000);
    private final RunningStats positiveBid = new RunningStats(20_000);
    private long steps;
    private Consumer<StepFingerprint> stepFingerprints;
    private Runnable beforeBackward;
    /**
     * The seed whose initial table a snapshot's changed rows are relative to: the config's, or that of the last v4
     * snapshot restored (whose table this one now is), so a restored model's snapshots stay as small.
     */
    private long baseSeed;
    /** Size of the last checkpoint: the next one is the same size (see {@link ExactBytes}). */
    private int checkpointSize;

    private static final Object INITIALIZATION = new Object();

    private CtrModel(ModelConfig config) {
        this.config = config;
        this.device = DeviceChoice.parse(config.device()).resolve();
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        IntraOpThreads.applyToCurrentThread();
        this.network = new CtrNetwork(config);
        initialize(network, manager, config);
        if (device.isGpu()) {
            // The engine draws other numbers on a GPU: start from the CPU's table, the base snapshots are written
            // against, so that its untrained rows stay out of them here too.
            NDArray table = network.embeddingTable().getArray();
            try (NDManager scope = manager.newSubManager()) {
                scope.create(InitialTable.of(config, config.seed()).values(), table.getShape()).copyTo(table);
            }
        }
        this.baseSeed = config.seed();
        this.encoder = new BatchEncoder(config);
        this.store = new ParameterStore(manager, false);
        this.optimizer = newOptimizer();
        this.wide = config.wide() ? new WideLinear(config.wideBuckets(), config.denseFeatures(), config.wideLearningRate()) : null;
    }

    /** Draws a network's initial parameters from {@code config}'s seed. */
    static void initialize(CtrNetwork network, NDManager manager, ModelConfig config) {
        // The engine's random generator is one per process: seeding and drawing the initial parameters must not
        // interleave with another model's, or models created at once (a job's scorers and trainer) differ by chance.
        synchronized (INITIALIZATION) {
            Engine.getEngine("PyTorch").setRandomSeed((int) config.seed());
            network.initialize(manager, DataType.FLOAT32, new Shape(1, config.sparseFields()));
        }
    }

    public static CtrModel create(ModelConfig config) {
        return new CtrModel(config);
    }

    public ModelConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** Optimiser steps taken so far (restored from a snapshot). */
    public long steps() {
        return steps;
    }

    /**
     * Hands every training step's {@link StepFingerprint} to {@code sink} from now on ({@code null}: no more). A
     * diagnostic: each step then copies the parameters out twice and the optimiser state once.
     */
    public void fingerprintSteps(Consumer<StepFingerprint> sink) {
        this.stepFingerprints = sink;
    }

    /** Runs {@code hook} in every training step between its forward and its backward pass (tests). */
    void beforeBackward(Runnable hook) {
        this.beforeBackward = hook;
    }

    /** Adam (DJL's rule and defaults) whose moments and step counts go into {@link #checkpoint()}. */
    private CheckpointedAdam newOptimizer() {
        return new CheckpointedAdam(config.learningRate());
    }

    /** One optimiser step on {@code samples}; returns the batch loss. */
    public float train(List<Sample> samples) {
        return samples.isEmpty() ? Float.NaN : step(samples, false).loss;
    }

    /**
     * Progressive validation in one forward pass: the click probabilities {@link #predict} gives for
     * {@code samples} before this step, taken from the training step's own forward pass, then the step. The
     * same values bit for bit (CtrModelTest) when the batch fills a padding bucket (1, 4, 16, 64, 256, 1024
     * rows), where both passes run the same kernels on the same rows; another size is padded by
     * {@link #predict} but not by training, so it takes the two passes.
     */
    public float[] predictThenTrain(List<Sample> samples) {
        if (samples.isEmpty()) {
            return new float[0];
        }
        if (!isPaddingBucket(samples.size())) {
            float[] predicted = predict(samples);
            train(samples);
            return predicted;
        }
        return step(samples, true).probabilities;
    }

    private record Step(float loss, float[] probabilities) {}

    private Step step(List<Sample> samples, boolean probabilities) {
        IntraOpThreads.applyToCurrentThread();
        Consumer<StepFingerprint> fingerprints = stepFingerprints;
        long stepBefore = steps;
        long stateBefore = fingerprints == null ? 0 : stateFingerprint();
        int n = samples.size();
        float[] labels = new float[n];
        float[] weights = new float[n];
        float[] fakeNegative = new float[n];
        float[] marketTarget = new float[n];
        float[] marketMask = new float[n];
        for (Sample s : samples) {
            if (!Double.isNaN(s.marketPrice()) && s.marketPrice() >= 0) {
                marketPrice.add(Math.log1p(s.marketPrice()));
            }
            if (s.label() != 0 && s.bid() > 0) {
                positiveBid.add(Math.log(s.bid()));
            }
        }
        double positiveWeightSum = 0;
        int positives = 0;
        for (int i = 0; i < n; i++) {
            Sample s = samples.get(i);
            labels[i] = s.label() != 0 ? 1f : 0f;
            weights[i] = 1f;
            if (config.bcm() && s.label() != 0 && s.bid() > 0 && !positiveBid.isEmpty()) {
                double g = Math.pow(s.bid() / Math.exp(positiveBid.mean()), config.bcmBeta());
                weights[i] = (float) Math.max(config.bcmMin(), Math.min(config.bcmMax(), g));
                positiveWeightSum += weights[i];
                positives++;
            }
            fakeNegative[i] = s.fakeNegativeCorrection() ? 1f : 0f;
            if (!Double.isNaN(s.marketPrice()) && s.marketPrice() >= 0) {
                marketTarget[i] = (float) ((Math.log1p(s.marketPrice()) - marketPrice.mean()) / marketPrice.std());
                marketMask[i] = 1f;
            }
        }
        // Keep the positives' mean weight at 1: BCM moves weight towards high bids without
        // shifting the mean predicted CTR (MODEL-NOTES 1.3, calibration).
        for (int i = 0; i < n; i++) {
            if (positives > 0 && weights[i] != 1f && labels[i] == 1f) {
                weights[i] = (float) (weights[i] * positives / positiveWeightSum);
            }
            weights[i] *= samples.get(i).weight();
        }
        List<Features> features = new ArrayList<>(n);
        List<UserHistory> histories = new ArrayList<>(n);
        for (Sample s : samples) {
            features.add(s.features());
            histories.add(s.history());
        }
        BatchEncoder.Encoded encoded = encoder.encode(features, histories, true, n);
        if (config.am2()) {
            encoder.encodeScenario(encoded, samples);
        }
        float[] wideLogits = wide == null ? null : wide.logits(features);
        float[] logits;
        float value;
        long inputsFingerprint = 0;
        long logitsFingerprint = 0;
        TRAINING.lock();
        try (NDManager batch = manager.newSubManager();
                GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDList inputs = encoder.toArrays(batch, encoded);
            NDList out = network.forward(store, inputs, true);
            NDArray logit = wide == null ? out.get(0) : out.get(0).add(BatchEncoder.floats(batch, wideLogits));
            if (fingerprints != null) {
                inputsFingerprint = inputsFingerprint(inputs, samples);
            }
            NDArray loss = CtrLoss.total(logit, BatchEncoder.floats(batch, labels), BatchEncoder.floats(batch, weights),
                    BatchEncoder.floats(batch, fakeNegative), out.size() > 1 ? out.get(1) : null,
                    BatchEncoder.floats(batch, marketTarget), BatchEncoder.floats(batch, marketMask), config.am2Lambda());
            if (beforeBackward != null) {
                beforeBackward.run();
            }
            collector.backward(loss);
            value = loss.getFloat();
            logits = wide == null && !probabilities && fingerprints == null ? null : logit.toFloatArray();
            if (fingerprints != null) {
                logitsFingerprint = StepFingerprint.floats(StepFingerprint.START, logits);
            }
            update(encoder.lookedUpRows(encoded));
        } finally {
            TRAINING.unlock();
        }
        if (wide != null) {
            wide.train(features, CtrLoss.logitGradients(logits, labels, weights, fakeNegative));
        }
        if (fingerprints != null) {
            fingerprints.accept(new StepFingerprint(stepBefore, n, stateBefore, inputsFingerprint, logitsFingerprint,
                    stateFingerprint(), optimizerFingerprint()));
        }
        float[] predicted = null;
        if (probabilities) {
            predicted = new float[n];
            for (int i = 0; i < n; i++) {
                predicted[i] = (float) (1 / (1 + Math.exp(-logits[i])));
            }
        }
        return new Step(value, predicted);
    }

    /** What a step reads of the model besides the optimiser: parameters, the wide weights, the running statistics. */
    private long stateFingerprint() {
        long h = StepFingerprint.longs(StepFingerprint.START, steps);
        for (double v : concat(marketPrice.state(), positiveBid.state())) {
            h = StepFingerprint.longs(h, Double.doubleToRawLongBits(v));
        }
        for (Pair<String, Parameter> entry : network.getParameters()) {
            h = StepFingerprint.floats(h, entry.getValue().getArray().toFloatArray());
        }
        return wide == null ? h : wide.fingerprintWeights(h);
    }

    /** The encoded arrays the network reads and each sample's training-only fields, as given. */
    private static long inputsFingerprint(NDList encoded, List<Sample> samples) {
        long h = StepFingerprint.START;
        for (NDArray array : encoded) {
            h = StepFingerprint.bytes(h, array.toByteArray());
        }
        for (Sample s : samples) {
            h = StepFingerprint.longs(h, s.label(), Double.doubleToRawLongBits(s.bid()),
                    Double.doubleToRawLongBits(s.marketPrice()), Float.floatToRawIntBits(s.weight()),
                    s.fakeNegativeCorrection() ? 1 : 0);
        }
        return h;
    }

    private long optimizerFingerprint() {
        List<Parameter> parameters = new ArrayList<>();
        network.getParameters().forEach(entry -> parameters.add(entry.getValue()));
        long h = optimizer.fingerprint(StepFingerprint.START, parameters);
        return wide == null ? h : wide.fingerprintSums(h);
    }

    /** @param tableRows the embedding table's rows the batch looked up: the others have no gradient */
    private void update(long[] tableRows) {
        Parameter table = network.embeddingTable();
        for (Pair<String, Parameter> entry : network.getParameters()) {
            Parameter parameter = entry.getValue();
            NDArray weight = parameter.getArray();
            try (NDArray gradient = weight.getGradient()) {
                if (parameter == table) {
                    optimizer.updateRows(parameter.getId(), weight, gradient, tableRows);
                } else {
                    optimizer.update(parameter.getId(), weight, gradient);
                }
                gradient.subi(gradient);
            }
        }
        steps++;
    }

    /** Click probabilities of training-style samples, each with its own history (shared where identical). */
    public float[] predict(List<Sample> samples) {
        List<Features> features = new ArrayList<>(samples.size());
        List<UserHistory> histories = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            features.add(s.features());
            histories.add(s.history());
        }
        return scoreFlat(features, histories, true, ALL_ROWS, 0);
    }

    /** Click probabilities per request and candidate; the per-user part runs once per request. */
    public float[][] score(List<ScoringRequest> requests) {
        return score(requests, true);
    }

    /**
     * As {@link #score(List)}; {@code sharePerUser = false} recomputes the user part for every
     * candidate (the reference the shared path is benchmarked and tested against).
     */
    public float[][] score(List<ScoringRequest> requests, boolean sharePerUser) {
        List<Features> features = new ArrayList<>();
        List<UserHistory> histories = new ArrayList<>();
        flatten(requests, features, histories);
        return perRequest(requests, scoreFlat(features, histories, sharePerUser, ALL_ROWS, 0));
    }

    /** Every request's candidates in order, each with its request's history. */
    private static void flatten(List<ScoringRequest> requests, List<Features> features, List<UserHistory> histories) {
        for (ScoringRequest r : requests) {
            features.addAll(r.candidates());
            histories.addAll(Collections.nCopies(r.candidates().size(), r.history()));
        }
    }

    /** {@code flat}, one value per candidate in {@link #flatten}'s order, cut back into the requests. */
    private static float[][] perRequest(List<ScoringRequest> requests, float[] flat) {
        float[][] out = new float[requests.size()][];
        int at = 0;
        for (int i = 0; i < out.length; i++) {
            int size = requests.get(i).candidates().size();
            out[i] = Arrays.copyOfRange(flat, at, at + size);
            at += size;
        }
        return out;
    }

    /** @param rows the smallest and the largest call, in rows (padding buckets) */
    private float[] scoreFlat(List<Features> features, List<UserHistory> histories, boolean share, CallRows rows,
            int minHistoryLength) {
        float[] out = new float[features.size()];
        int max = rows.max();
        for (int from = 0; from < features.size(); from += max) {
            int to = Math.min(features.size(), from + max);
            float[] logits = logits(features.subList(from, to), histories.subList(from, to), share,
                    bucket(Math.max(rows.min(), to - from)), minHistoryLength);
            for (int i = from; i < to; i++) {
                out[i] = (float) (1 / (1 + Math.exp(-logits[i - from])));
            }
        }
        return out;
    }

    /**
     * As {@link #score(List)}, but a request's scores do not depend on the other requests of the call, to the bit:
     * a replay that batches the same auctions otherwise serves the same pCTRs (the scorer's replay-exact calls).
     *
     * <p>Plain calls are not batch-invariant on the CPU: the encoder trims the history arrays to the call's longest
     * history, and a request scored alone at 4 or 8 clicks differed from the same request in a call encoded at 16 or
     * 30 by an ulp in 1 to 3% of candidates (measured with PyTorch's CPU kernels here: softmax and sums over the
     * history take other vector paths at those lengths), and a one-row call (one candidate alone) another matrix
     * kernel. Calls of 16 rows or more with every history encoded at {@link #BATCH_INVARIANT_HISTORY} clicks or more,
     * padded after the newest click (BatchEncoder), gave the same bits at every call shape tried: 16 to 1,024 rows,
     * 16 or 30 clicks, 2 to 10 aligned-unclick slots, any number of users. ScoringBatchInvarianceTest holds a
     * machine's kernels to that.
     */
    public float[][] scoreBatchInvariant(List<ScoringRequest> requests) {
        List<Features> features = new ArrayList<>();
        List<UserHistory> histories = new ArrayList<>();
        flatten(requests, features, histories);
        return perRequest(requests, scoreFlat(features, histories, true, BATCH_INVARIANT_ROWS, BATCH_INVARIANT_HISTORY));
    }

    /** @param minHistoryLength see {@link BatchEncoder#encode}; 0: the batch's own */
    private float[] logits(List<Features> features, List<UserHistory> histories, boolean share, int padTo, int minHistoryLength) {
        IntraOpThreads.applyToCurrentThread();
        BatchEncoder.Encoded encoded = encoder.encode(features, histories, share, padTo, minHistoryLength);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager batch = manager.newSubManager()) {
            NDList out = network.forward(store, encoder.toArrays(batch, encoded), false);
            float[] logits = java.util.Arrays.copyOf(out.get(0).toFloatArray(), features.size());
            if (wide != null) {
                for (int i = 0; i < logits.length; i++) {
                    logits[i] += wide.logit(features.get(i));
                }
            }
            return logits;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Whether {@code rows} is one of the row counts a scoring call is padded to (a call of it is not padded further). */
    private static boolean isPaddingBucket(int rows) {
        return Arrays.stream(BUCKETS).anyMatch(b -> b == rows);
    }

    static int bucket(int n) {
        for (int b : BUCKETS) {
            if (n <= b) {
                return b;
            }
        }
        return n;
    }

    /** AM2's market-price estimate for each sample (same unit as {@link Sample#marketPrice()}). */
    public float[] predictMarketPrice(List<Sample> samples) {
        if (!config.am2()) {
            throw new IllegalStateException("the model was built with AM2 off");
        }
        List<Features> features = new ArrayList<>();
        List<UserHistory> histories = new ArrayList<>();
        for (Sample s : samples) {
            features.add(s.features());
            histories.add(s.history());
        }
        BatchEncoder.Encoded encoded = encoder.encode(features, histories, true, samples.size());
        encoder.encodeScenario(encoded, samples);
        IntraOpThreads.applyToCurrentThread();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager batch = manager.newSubManager()) {
            // the training graph (training = true) is the only one with the AM2 head
            float[] normalised = network.forward(store, encoder.toArrays(batch, encoded), true).get(1).toFloatArray();
            float[] prices = new float[normalised.length];
            for (int i = 0; i < prices.length; i++) {
                prices[i] = (float) Math.expm1(normalised[i] * marketPrice.std() + marketPrice.mean());
            }
            return prices;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Scores every batch bucket once, so the first real requests do not pay allocation warm-up. */
    public void warmUp() {
        UserHistory history = new UserHistory(new long[] {1}, new long[][] {{2, 3}});
        for (int b : BUCKETS) {
            List<Features> candidates = new ArrayList<>(b);
            for (int i = 0; i < b; i++) {
                candidates.add(new Features(new long[config.sparseFields()], new float[config.denseFeatures()], 1));
            }
            score(List.of(new ScoringRequest(history, candidates)));
        }
    }

    /** Parameters and normalisation state as bytes: what scorers load. The optimiser state is in {@link #checkpoint()}. */
    public byte[] snapshot() {
        try {
            SnapshotPlan plan = planSnapshot();
            ExactBytes bytes = new ExactBytes(plan.length());
            DataOutputStream out = new DataOutputStream(bytes);
            writeSnapshot(out, plan);
            out.flush();
            return bytes.bytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What a snapshot will hold: each parameter's (and the wide part's) changed rows, found before anything is
     * written, so that its length is known first (a checkpoint holds it after its length).
     */
    private record SnapshotPlan(InitialTable base, List<ChangedRows.Changes> parameters, ChangedRows.Changes wide, int length) {}

    private SnapshotPlan planSnapshot() {
        InitialTable base = InitialTable.of(config, baseSeed);
        Parameter table = network.embeddingTable();
        long length = 2 * Integer.BYTES + 2 + config.shapeKey().getBytes(StandardCharsets.UTF_8).length + Long.BYTES
                + 6 * Double.BYTES + 2 * Long.BYTES;
        List<ChangedRows.Changes> parameters = new ArrayList<>();
        for (Pair<String, Parameter> entry : network.getParameters()) {
            Parameter p = entry.getValue();
            ChangedRows.Changes changes = ChangedRows.of(p.getArray(), p == table ? base.values() : null);
            parameters.add(changes);
            length += changes.bytes();
        }
        ChangedRows.Changes wideChanges = wide == null ? null : wide.weightChanges();
        if (wideChanges != null) {
            length += wideChanges.bytes();
        }
        return new SnapshotPlan(base, parameters, wideChanges, Math.toIntExact(length));
    }

    private void writeSnapshot(DataOutputStream out, SnapshotPlan plan) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(FORMAT_VERSION);
        out.writeUTF(config.shapeKey());
        out.writeLong(steps);
        for (double v : concat(marketPrice.state(), positiveBid.state())) {
            out.writeDouble(v);
        }
        out.writeLong(baseSeed);
        out.writeLong(plan.base().fingerprint());
        for (ChangedRows.Changes changes : plan.parameters()) {
            ChangedRows.write(out, changes);
        }
        if (plan.wide() != null) {
            ChangedRows.write(out, plan.wide());
        }
    }

    /** The parameters' part of a v3 snapshot: each array (and the wide part) a count and its floats. */
    private long parameterBytes() {
        long length = 0;
        for (Pair<String, Parameter> entry : network.getParameters()) {
            length += Integer.BYTES + entry.getValue().getArray().size() * Float.BYTES;
        }
        if (wide != null) {
            length += Integer.BYTES + (long) wide.size() * Float.BYTES;
        }
        return length;
    }

    /** What a {@link #snapshot()} or {@link #checkpoint()} must have been made for to load: the model's shape key. */
    public String shape() {
        return config.shapeKey();
    }

    /**
     * The shape key a {@link #snapshot()} or a {@link #checkpoint()} was made with (its header; nothing else is read),
     * or null for other bytes: lets a caller tell state of another model shape from corrupt state before it loads.
     */
    public static String shapeOf(byte[] snapshotOrCheckpoint) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshotOrCheckpoint));
            int magic = in.readInt();
            if (magic == CHECKPOINT_MAGIC) {
                in.readInt(); // format version
                in.readInt(); // the snapshot's length; the snapshot follows
                magic = in.readInt();
            }
            if (magic != MAGIC) {
                return null;
            }
            in.readInt(); // format version: every readable one has the shape next
            return in.readUTF();
        } catch (IOException e) {
            return null;
        }
    }

    /** Loads a {@link #snapshot()}; rejects other formats, versions and model shapes with a message naming the cause. */
    public void restore(byte[] snapshot) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
            if (snapshot.length < 8 || in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not a CTR model snapshot (bad magic)");
            }
            int version = in.readInt();
            if (version < OLDEST_READABLE_FORMAT_VERSION || version > FORMAT_VERSION) {
                throw new IllegalArgumentException("snapshot format v" + version + " but this build reads v"
                        + OLDEST_READABLE_FORMAT_VERSION + " to v" + FORMAT_VERSION
                        + ": retrain or restore with the matching build");
            }
            String shape = in.readUTF();
            if (!shape.equals(config.shapeKey())) {
                throw new IllegalArgumentException("snapshot of a model shaped " + shape + " cannot load into "
                        + config.shapeKey() + ": use the same model config (a build whose model takes other inputs"
                        + " cannot load it: start that build without this state)");
            }
            long restoredSteps = in.readLong();
            double[] stats = new double[6];
            for (int i = 0; i < stats.length; i++) {
                stats[i] = in.readDouble();
            }
            if (version == OLDEST_READABLE_FORMAT_VERSION) {
                loadInPlace(in);
            } else if (version == 3) {
                loadParameters(in, snapshot.length);
            } else {
                loadChangedRows(in, snapshot, snapshot.length - in.available());
            }
            if (wide != null) {
                if (version < 4) {
                    wide.loadWeights(in);
                } else {
                    wide.loadWeightChanges(in);
                }
            }
            marketPrice.restore(java.util.Arrays.copyOfRange(stats, 0, 3));
            positiveBid.restore(java.util.Arrays.copyOfRange(stats, 3, 6));
            steps = restoredSteps;
        } catch (IOException | MalformedModelException e) {
            throw new IllegalArgumentException("corrupt CTR model snapshot: " + e.getMessage(), e);
        }
    }

    /**
     * Reads v3 parameters straight into the live arrays (the optimiser holds the same ones). The length is checked
     * first, so a truncated snapshot changes nothing.
     */
    private void loadParameters(DataInputStream in, int snapshotLength) throws IOException {
        long expected = parameterBytes();
        if (in.available() != expected) {
            throw new IllegalArgumentException("corrupt CTR model snapshot: " + snapshotLength + " bytes, "
                    + (expected - in.available()) + " more or fewer than this model's parameters take");
        }
        for (Pair<String, Parameter> entry : network.getParameters()) {
            FloatArrays.readInto(in, entry.getValue().getArray(), "parameter " + entry.getKey());
        }
    }

    /**
     * v4: the base the snapshot names, then each array's changed rows over it. The rest of the snapshot is read
     * through once first, so a truncated or malformed one changes nothing.
     */
    private void loadChangedRows(DataInputStream in, byte[] snapshot, int offset) throws IOException {
        long seed = in.readLong();
        long fingerprint = in.readLong();
        Parameter table = network.embeddingTable();
        DataInputStream check = new DataInputStream(new ByteArrayInputStream(snapshot, offset + 2 * Long.BYTES,
                snapshot.length - offset - 2 * Long.BYTES));
        boolean relativeToBase = false;
        for (Pair<String, Parameter> entry : network.getParameters()) {
            NDArray array = entry.getValue().getArray();
            byte tag = ChangedRows.skip(check, Math.toIntExact(array.size()), FloatArrays.rows(array), "parameter " + entry.getKey());
            relativeToBase |= entry.getValue() == table && tag == ChangedRows.ROWS;
        }
        if (wide != null) {
            ChangedRows.skip(check, wide.size(), wide.size(), "the wide part");
        }
        if (check.available() != 0) {
            throw new IllegalArgumentException("corrupt CTR model snapshot: " + check.available()
                    + " bytes after this model's parameters");
        }
        float[] base = null;
        if (relativeToBase) {
            InitialTable initial = InitialTable.of(config, seed);
            if (initial.fingerprint() != fingerprint) {
                throw new IllegalArgumentException("snapshot relative to an initial embedding table this build draws "
                        + "differently (seed " + seed + "): restore with the DJL and PyTorch versions that wrote it");
            }
            base = initial.values();
        }
        for (Pair<String, Parameter> entry : network.getParameters()) {
            Parameter p = entry.getValue();
            ChangedRows.readInto(in, p.getArray(), p == table ? base : null, "parameter " + entry.getKey());
        }
        baseSeed = seed;
    }

    /**
     * v2: decodes into a scratch network and copies the values into the live parameters, so the
     * arrays the parameter store and the optimiser hold stay the same and nothing is left behind.
     */
    private void loadInPlace(DataInputStream in) throws IOException, MalformedModelException {
        try (NDManager scratch = manager.newSubManager()) {
            CtrNetwork decoded = new CtrNetwork(config);
            decoded.loadParameters(scratch, in);
            List<Parameter> target = new ArrayList<>();
            network.getParameters().forEach(p -> target.add(p.getValue()));
            int i = 0;
            for (Pair<String, Parameter> entry : decoded.getParameters()) {
                entry.getValue().getArray().copyTo(target.get(i++).getArray());
            }
        }
    }

    /**
     * Everything training depends on: the {@link #snapshot()} plus the optimiser's moments and step counts,
     * so a model restored with {@link #restoreCheckpoint} trains on exactly as this one would (training has
     * no other randomness: no dropout, no sampling). Several times the snapshot's size; for the trainer's
     * state, not for serving.
     */
    public byte[] checkpoint() {
        try {
            SnapshotPlan plan = planSnapshot();
            int parametersLength = plan.length();
            ExactBytes bytes = new ExactBytes(checkpointSize > 0 ? checkpointSize : parametersLength * 3 + 1024);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(CHECKPOINT_MAGIC);
            out.writeInt(CHECKPOINT_FORMAT_VERSION);
            out.writeInt(parametersLength);
            // the snapshot goes straight into the checkpoint: no array of its own beside the checkpoint's
            int before = out.size();
            writeSnapshot(out, plan);
            if (out.size() - before != parametersLength) {
                throw new IllegalStateException("wrote a snapshot of " + (out.size() - before) + " bytes, expected "
                        + parametersLength);
            }
            optimizer.save(network.getParameters().values(), out);
            if (wide != null) {
                wide.saveOptimizer(out);
            }
            out.flush();
            byte[] checkpoint = bytes.bytes();
            checkpointSize = checkpoint.length;
            return checkpoint;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads a {@link #checkpoint()}: parameters, normalisation state, step count and optimiser state. */
    public void restoreCheckpoint(byte[] checkpoint) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(checkpoint));
            if (checkpoint.length < 12 || in.readInt() != CHECKPOINT_MAGIC) {
                throw new IllegalArgumentException("not a CTR model training checkpoint (bad magic)");
            }
            int version = in.readInt();
            if (version < OLDEST_READABLE_CHECKPOINT_FORMAT_VERSION || version > CHECKPOINT_FORMAT_VERSION) {
                throw new IllegalArgumentException("checkpoint format v" + version + " but this build reads v"
                        + OLDEST_READABLE_CHECKPOINT_FORMAT_VERSION + " to v" + CHECKPOINT_FORMAT_VERSION
                        + ": restore with the matching build");
            }
            byte[] parameters = new byte[in.readInt()];
            in.readFully(parameters);
            restore(parameters);
            optimizer.load(network.getParameters().values(), network.embeddingTable(), manager, in, version);
            if (wide != null) {
                wide.loadOptimizer(in, version >= 3);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt CTR model checkpoint: " + e.getMessage(), e);
        }
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The wide part's share of the logit of {@code f} (0 without a wide part): for tests. */
    float wideLogit(Features f) {
        return wide == null ? 0f : wide.logit(f);
    }

    /** Arrays alive in this model's native scope (parameters, optimiser state, leaks): for tests. */
    long liveArrays() {
        return manager.getManagedArrays().size();
    }

    @Override
    public void close() {
        manager.close();
    }
}
