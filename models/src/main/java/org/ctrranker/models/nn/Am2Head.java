package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * AM2 (MODEL-NOTES 1.3): a two-layer market-price tower H -> 32 -> 1 on the backbone's last hidden
 * layer whose weights and biases are generated per sample from the scenario embedding. Training only:
 * the served graph never calls it, and its gradient reaches the backbone (no stop-gradient).
 */
public final class Am2Head extends AbstractBlock {

    static final int WIDTH = 32;

    private final int hidden;
    private final int scenario;
    private final Dense weight1;
    private final Dense bias1;
    private final Dense weight2;
    private final Dense bias2;

    public Am2Head(int hidden, int scenario) {
        super((byte) 1);
        this.hidden = hidden;
        this.scenario = scenario;
        this.weight1 = addChildBlock("weight1", new Dense(scenario, hidden * WIDTH));
        this.bias1 = addChildBlock("bias1", new Dense(scenario, WIDTH));
        this.weight2 = addChildBlock("weight2", new Dense(scenario, WIDTH));
        this.bias2 = addChildBlock("bias2", new Dense(scenario, 1));
    }

    /**
     * @param h backbone's last hidden layer [B, H]
     * @param scenarioEmbedding [B, S]
     * @return normalised market-price estimate [B]
     */
    public NDArray apply(ParameterStore store, NDArray h, NDArray scenarioEmbedding, boolean training) {
        long b = h.getShape().get(0);
        NDArray w1 = weight1.apply(store, scenarioEmbedding, training).reshape(b, hidden, WIDTH);
        NDArray u1 = h.expandDims(1).batchMatMul(w1).squeeze(1).add(bias1.apply(store, scenarioEmbedding, training));
        u1 = u1.getNDArrayInternal().relu();
        NDArray w2 = weight2.apply(store, scenarioEmbedding, training).reshape(b, WIDTH, 1);
        NDArray out = u1.expandDims(1).batchMatMul(w2).reshape(b, 1).add(bias2.apply(store, scenarioEmbedding, training));
        return out.reshape(b);
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList in, boolean training, PairList<String, Object> params) {
        return new NDList(apply(store, in.get(0), in.get(1), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        return new Shape[] {new Shape(in[0].get(0))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        for (Dense d : new Dense[] {weight1, bias1, weight2, bias2}) {
            d.initialize(manager, dataType, new Shape(1, scenario));
        }
    }
}
