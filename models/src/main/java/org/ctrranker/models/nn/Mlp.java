package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/** Dense layers with ReLU between them; the last layer is linear unless {@code reluLast}. */
public final class Mlp extends AbstractBlock {

    private final List<Dense> layers = new ArrayList<>();
    private final boolean reluLast;

    public Mlp(int inputs, boolean reluLast, int... widths) {
        super((byte) 1);
        this.reluLast = reluLast;
        int in = inputs;
        for (int i = 0; i < widths.length; i++) {
            layers.add(addChildBlock("layer" + i, new Dense(in, widths[i])));
            in = widths[i];
        }
    }

    /** Width of the output (the input width when there are no layers). */
    public int outputs(int inputs) {
        return layers.isEmpty() ? inputs : layers.get(layers.size() - 1).outputs();
    }

    public NDArray apply(ParameterStore store, NDArray x, boolean training) {
        NDArray out = x;
        for (int i = 0; i < layers.size(); i++) {
            out = layers.get(i).apply(store, out, training);
            if (i < layers.size() - 1 || reluLast) {
                out = out.getNDArrayInternal().relu();
            }
        }
        return out;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList in, boolean training, PairList<String, Object> params) {
        return new NDList(apply(store, in.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        long[] dims = in[0].getShape();
        dims[dims.length - 1] = outputs((int) dims[dims.length - 1]);
        return new Shape[] {new Shape(dims)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        for (Dense layer : layers) {
            layer.initialize(manager, dataType, new Shape(1, layer.inputs()));
        }
    }
}
