package org.ctrranker.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.optimizer.Optimizer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam exactly as DJL 0.36's {@code Adam} computes it (same defaults, same step-count rule, same native
 * {@code adamUpdate} kernel), with state that can be saved and loaded: DJL's keeps its moments and step
 * counts private, so a model restored from a checkpoint would restart them and train differently from
 * one that never stopped. The embedding table steps its live rows only ({@link #updateRows}), to within a
 * thousandth of the dense step.
 *
 * <p>Parameter ids are random per network instance, so state is saved by parameter position
 * ({@code Block.getParameters()} order is fixed by the network's structure) and loaded onto the ids of
 * the receiving network.
 */
final class CheckpointedAdam extends Optimizer {

    static final float BETA1 = 0.9f;
    static final float BETA2 = 0.999f;
    static final float EPSILON = 1e-8f;

    private final float learningRate;
    private final Map<String, NDArray> means = new HashMap<>();
    private final Map<String, NDArray> variances = new HashMap<>();
    private final Map<String, Integer> counts = new HashMap<>();
    /** Of the parameters stepped by {@link #updateRows}. */
    private final Map<String, LiveRows> liveRows = new HashMap<>();
    /** As DJL: a parameter's step is the highest count seen so far, so late-joining parameters share the clock. */
    private int numUpdate;

    CheckpointedAdam(float learningRate) {
        super(new Builder());
        this.learningRate = learningRate;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        float biasCorrected = tick(parameterId);
        step(weight, grad, mean(parameterId, weight), variance(parameterId, weight), biasCorrected);
    }

    /**
     * The same step for an embedding table, on its {@link LiveRows} only: the rows with a gradient now or in the last
     * {@link LiveRows#WINDOW} steps. The others keep their weights and moments (a dense step would move them by less
     * than a thousandth of what their last gradient moved them), and a frozen row that has a gradient again first has
     * its moments decayed by the steps it missed. When over half the table is live, one dense step is cheaper.
     *
     * @param gradientRows the rows with a gradient (the rows the batch looked up), distinct; the gradient's other rows
     *     must be zero
     */
    void updateRows(String parameterId, NDArray weight, NDArray grad, long[] gradientRows) {
        float biasCorrected = tick(parameterId);
        int step = counts.get(parameterId);
        NDArray mean = mean(parameterId, weight);
        NDArray variance = variance(parameterId, weight);
        LiveRows live = liveRows.computeIfAbsent(parameterId, id -> new LiveRows((int) weight.getShape().get(0)));
        LiveRows.Step rows = live.next(step, gradientRows);
        boolean gradMode = JniUtils.isGradMode();
        // writing rows of a parameter in place is not an operation to record
        JniUtils.setGradMode(false);
        try (NDManager scope = weight.getManager().newSubManager()) {
            if (rows.rows().length > live.size() / 2) {
                decay(scope, live.missedByEveryRow(rows), mean, variance);
                step(weight, grad, mean, variance, biasCorrected);
                live.steppedAll(step);
                return;
            }
            NDArray index = scope.create(rows.rows());
            NDArray w = gather(index, weight);
            NDArray m = gather(index, mean);
            NDArray v = gather(index, variance);
            if (rows.missed() != null) {
                decay(scope, rows.missed(), m, v);
            }
            step(w, gather(index, grad), m, v, biasCorrected);
            NDIndex at = new NDIndex("{}", index);
            weight.set(at, w);
            mean.set(at, m);
            variance.set(at, v);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** Decays each row's moments as {@code missed[row]} dense steps without a gradient would have. */
    private static void decay(NDManager scope, int[] missed, NDArray mean, NDArray variance) {
        float[] meanFactors = new float[missed.length];
        float[] varianceFactors = new float[missed.length];
        for (int i = 0; i < missed.length; i++) {
            meanFactors[i] = (float) Math.pow(BETA1, missed[i]);
            varianceFactors[i] = (float) Math.pow(BETA2, missed[i]);
        }
        Shape column = new Shape(missed.length, 1);
        mean.muli(scope.create(meanFactors, column));
        variance.muli(scope.create(varianceFactors, column));
    }

    /** Rows of {@code matrix}, in the index's scope: an embedding lookup, several times faster than advanced indexing. */
    private static NDArray gather(NDArray index, NDArray matrix) {
        return index.getNDArrayInternal().embedding(index, matrix, SparseFormat.DENSE).singletonOrThrow();
    }

    /** Counts a step of the parameter; returns the bias-corrected rate for it. */
    private float tick(String parameterId) {
        int count = counts.merge(parameterId, 1, Integer::sum);
        numUpdate = Math.max(numUpdate, count);
        int t = numUpdate;
        double coef1 = 1.0 - Math.pow(BETA1, t);
        double coef2 = 1.0 - Math.pow(BETA2, t);
        return (float) (learningRate * Math.sqrt(coef2) / coef1);
    }

    // Moments live in the weight's scope (the model's), so closing the model frees them.
    private NDArray mean(String parameterId, NDArray weight) {
        return means.computeIfAbsent(parameterId, id -> weight.zerosLike());
    }

    private NDArray variance(String parameterId, NDArray weight) {
        return variances.computeIfAbsent(parameterId, id -> weight.zerosLike());
    }

    private void step(NDArray weight, NDArray grad, NDArray mean, NDArray variance, float biasCorrected) {
        weight.getNDArrayInternal().adamUpdate(new NDList(weight, grad, mean, variance), new NDList(weight),
                learningRate, biasCorrected, getWeightDecay(), rescaleGrad, clipGrad, BETA1, BETA2, EPSILON, true, false);
    }

    /**
     * Step clock, then per parameter (in {@code parameters} order): its count, once it has stepped both moments, and
     * for a parameter {@link #updateRows} steps its rows' ages ({@link LiveRows#ages}).
     */
    void save(List<Parameter> parameters, DataOutputStream out) throws IOException {
        out.writeFloat(learningRate);
        out.writeInt(numUpdate);
        out.writeInt(parameters.size());
        for (Parameter p : parameters) {
            String id = p.getId();
            out.writeInt(counts.getOrDefault(id, 0));
            NDArray mean = means.get(id);
            out.writeBoolean(mean != null);
            if (mean != null) {
                // zero where the parameter never had a gradient: most of a large embedding table's rows
                ChangedRows.write(out, ChangedRows.of(mean, null));
                ChangedRows.write(out, ChangedRows.of(variances.get(id), null));
            }
            LiveRows live = liveRows.get(id);
            out.writeBoolean(live != null);
            if (live != null) {
                // zero where a row never had a gradient
                ChangedRows.write(out, ChangedRows.of(live.ages(counts.getOrDefault(id, 0)), null));
            }
        }
    }

    /** {@link StepFingerprint}'s hash of what {@link #save} writes, continued from {@code hash}. */
    long fingerprint(long hash, List<Parameter> parameters) {
        hash = StepFingerprint.longs(hash, numUpdate);
        for (Parameter p : parameters) {
            String id = p.getId();
            int count = counts.getOrDefault(id, 0);
            hash = StepFingerprint.longs(hash, count);
            NDArray mean = means.get(id);
            if (mean != null) {
                hash = StepFingerprint.floats(hash, mean.toFloatArray());
                hash = StepFingerprint.floats(hash, variances.get(id).toFloatArray());
            }
            LiveRows live = liveRows.get(id);
            if (live != null) {
                hash = StepFingerprint.floats(hash, live.ages(count));
            }
        }
        return hash;
    }

    /**
     * Replaces all state by what {@link #save} wrote for a network of the same structure.
     *
     * @param rowStepped the parameter {@link #updateRows} steps: from a checkpoint before format v4 (dense Adam), all
     *     its rows are current through the saved step
     * @param checkpointVersion before v3 the moments were written whole; before v4 without rows' ages
     */
    void load(List<Parameter> parameters, Parameter rowStepped, NDManager manager, DataInputStream in, int checkpointVersion)
            throws IOException {
        boolean changedRows = checkpointVersion >= 3;
        float savedRate = in.readFloat();
        if (savedRate != learningRate) {
            throw new IllegalArgumentException("checkpoint trained with learning rate " + savedRate + ", this model uses "
                    + learningRate + ": use the same model config");
        }
        int savedClock = in.readInt();
        int size = in.readInt();
        if (size != parameters.size()) {
            throw new IllegalArgumentException("checkpoint has optimiser state for " + size + " parameters, the network "
                    + parameters.size());
        }
        clear();
        numUpdate = savedClock;
        for (Parameter p : parameters) {
            String id = p.getId();
            int count = in.readInt();
            if (count > 0) {
                counts.put(id, count);
            }
            if (in.readBoolean()) {
                NDArray weight = p.getArray();
                NDArray mean = manager.zeros(weight.getShape());
                means.put(id, mean);
                readMoment(in, mean, changedRows);
                NDArray variance = manager.zeros(weight.getShape());
                variances.put(id, variance);
                readMoment(in, variance, changedRows);
            }
            if (checkpointVersion >= 4 && in.readBoolean()) {
                float[] ages = new float[Math.toIntExact(p.getArray().getShape().get(0))];
                ChangedRows.readInto(in, ages, null, "rows' ages of a parameter");
                LiveRows live = new LiveRows(ages.length);
                live.restore(count, ages);
                liveRows.put(id, live);
            } else if (checkpointVersion < 4 && p == rowStepped && count > 0) {
                LiveRows live = new LiveRows(Math.toIntExact(p.getArray().getShape().get(0)));
                live.restoreDense(count);
                liveRows.put(id, live);
            }
        }
    }

    private static void readMoment(DataInputStream in, NDArray into, boolean changedRows) throws IOException {
        if (changedRows) {
            ChangedRows.readInto(in, into, null, "optimiser state of a parameter");
        } else {
            FloatArrays.readInto(in, into, "optimiser state of a parameter");
        }
    }

    private void clear() {
        means.values().forEach(NDArray::close);
        variances.values().forEach(NDArray::close);
        means.clear();
        variances.clear();
        counts.clear();
        liveRows.clear();
        numUpdate = 0;
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
