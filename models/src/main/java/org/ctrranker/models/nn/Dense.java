package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;

/**
 * A fully connected layer with a fixed input width, applied over the last axis of any-rank input.
 *
 * <p>Unlike DJL's {@code Linear} it needs no shape inference, so composite blocks can initialise it
 * from the config alone. Results attach to the input's manager, never to the parameters' manager,
 * so a per-batch NDManager scope frees everything a forward pass allocates.
 */
public final class Dense extends AbstractBlock {

    private final int inputs;
    private final int outputs;
    private final Parameter weight;
    private final Parameter bias;

    public Dense(int inputs, int outputs) {
        super((byte) 1);
        this.inputs = inputs;
        this.outputs = outputs;
        this.weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(outputs, inputs)).optInitializer(new XavierInitializer()).build());
        this.bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(outputs)).optInitializer(Initializer.ZEROS).build());
    }

    public int inputs() {
        return inputs;
    }

    public int outputs() {
        return outputs;
    }

    public NDArray apply(ParameterStore store, NDArray x, boolean training) {
        NDArray w = store.getValue(weight, x.getDevice(), training);
        NDArray b = store.getValue(bias, x.getDevice(), training);
        return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList in, boolean training, PairList<String, Object> params) {
        return new NDList(apply(store, in.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        long[] dims = in[0].getShape();
        dims[dims.length - 1] = outputs;
        return new Shape[] {new Shape(dims)};
    }

    @Override
    protected void initializeChildBlocks(ai.djl.ndarray.NDManager manager, DataType dataType, Shape... shapes) {
        // no children
    }
}
