package org.ctrranker.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
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
 * one that never stopped.
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
    /** As DJL: a parameter's step is the highest count seen so far, so late-joining parameters share the clock. */
    private int numUpdate;

    CheckpointedAdam(float learningRate) {
        super(new Builder());
        this.learningRate = learningRate;
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        int count = counts.merge(parameterId, 1, Integer::sum);
        numUpdate = Math.max(numUpdate, count);
        int t = numUpdate;
        double coef1 = 1.0 - Math.pow(BETA1, t);
        double coef2 = 1.0 - Math.pow(BETA2, t);
        float biasCorrected = (float) (learningRate * Math.sqrt(coef2) / coef1);
        // Moments live in the weight's scope (the model's), so closing the model frees them.
        NDArray mean = means.computeIfAbsent(parameterId, id -> weight.zerosLike());
        NDArray variance = variances.computeIfAbsent(parameterId, id -> weight.zerosLike());
        weight.getNDArrayInternal().adamUpdate(new NDList(weight, grad, mean, variance), new NDList(weight),
                learningRate, biasCorrected, getWeightDecay(), rescaleGrad, clipGrad, BETA1, BETA2, EPSILON, true, false);
    }

    /** Step clock, then per parameter (in {@code parameters} order): its count and, once it has stepped, both moments. */
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
        }
    }

    /**
     * Replaces all state by what {@link #save} wrote for a network of the same structure.
     *
     * @param changedRows false: a checkpoint before format v3, with the moments written whole
     */
    void load(List<Parameter> parameters, NDManager manager, DataInputStream in, boolean changedRows) throws IOException {
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
        numUpdate = 0;
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
