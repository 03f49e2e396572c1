package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import org.ctrranker.models.ModelConfig;

/**
 * The whole CTR network: one hashed embedding table shared by every id field and the history, the
 * optional TEM4CTR block, an MLP backbone (plus an optional cross network), the CTR head, an additive
 * per-position logit bias, and the training-only AM2 head.
 *
 * <p>Inputs, in this order (see {@link Inputs}): sparse buckets [N, F] int64, dense [N, max(D,1)]
 * float32, position [N] int64, user index [N] int64 (row of the user arrays each candidate belongs
 * to), clicks [U, L'] int64, aligned unclicks [U, L', K'] int64 (L' <= L, K' <= K: trimmed per batch), and in training the scenario buckets
 * [N, S] int64. Bucket 0 is padding. Output: [logit [N]] when serving; [logit, market price [N]]
 * when training with AM2 on.
 */
public final class CtrNetwork extends AbstractBlock {

    private final ModelConfig config;
    private final Parameter table;
    private final Parameter positionBias;
    private final Parameter wide;
    private final Tem4CtrBlock tem4ctr;
    private final Mlp backbone;
    private final List<Dense> cross = new ArrayList<>();
    private final Dense head;
    private final Am2Head am2;
    private final int backboneInputs;
    private final int hidden;

    public CtrNetwork(ModelConfig config) {
        super((byte) 1);
        this.config = config;
        int d = config.embeddingDim();
        this.table = addParameter(Parameter.builder().setName("embeddings").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.hashBuckets(), d)).optInitializer(new NormalInitializer(0.01f)).build());
        this.positionBias = addParameter(Parameter.builder().setName("position_bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(config.positions() + 1, 1)).optInitializer(Initializer.ZEROS).build());
        this.wide = config.fm() ? addParameter(Parameter.builder().setName("wide").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.hashBuckets(), 1)).optInitializer(Initializer.ZEROS).build()) : null;
        this.tem4ctr = config.tem4ctr() ? addChildBlock("tem4ctr", new Tem4CtrBlock(d)) : null;
        this.backboneInputs = config.sparseFields() * d + config.denseFeatures() + (tem4ctr == null ? 0 : tem4ctr.outputs());
        this.backbone = addChildBlock("backbone", new Mlp(backboneInputs, true, config.hiddenLayers()));
        for (int i = 0; i < config.crossLayers(); i++) {
            cross.add(addChildBlock("cross" + i, new Dense(backboneInputs, 1)));
        }
        this.hidden = backbone.outputs(backboneInputs) + (cross.isEmpty() ? 0 : backboneInputs);
        this.head = addChildBlock("head", new Dense(hidden, 1));
        this.am2 = config.am2() ? addChildBlock("am2", new Am2Head(hidden, config.scenarioFields() * d)) : null;
    }

    public ModelConfig config() {
        return config;
    }

    /** The hashed embedding table shared by every id field: the one parameter whose rows change only when seen. */
    public Parameter embeddingTable() {
        return table;
    }

    /** Positions of the arrays in the input list. */
    public static final class Inputs {
        public static final int SPARSE = 0;
        public static final int DENSE = 1;
        public static final int POSITION = 2;
        public static final int USER_INDEX = 3;
        public static final int CLICKS = 4;
        public static final int UNCLICKS = 5;
        public static final int SCENARIO = 6;

        private Inputs() {}
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList in, boolean training, PairList<String, Object> params) {
        NDArray sparse = in.get(Inputs.SPARSE);
        long n = sparse.getShape().get(0);
        NDArray embeddingTable = store.getValue(table, sparse.getDevice(), training);
        NDArray fields = lookup(sparse, embeddingTable); // [N, F, d]
        List<NDArray> parts = new ArrayList<>();
        parts.add(fields.reshape(n, -1));
        if (config.denseFeatures() > 0) {
            parts.add(in.get(Inputs.DENSE));
        }
        if (tem4ctr != null) {
            parts.add(history(store, in, fields.get(":, " + config.targetField() + ", :"), embeddingTable, training));
        }
        NDArray x = parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts), -1);
        NDArray h = backbone.apply(store, x, training);
        if (!cross.isEmpty()) {
            NDArray xl = x;
            for (Dense layer : cross) {
                xl = x.mul(layer.apply(store, xl, training)).add(xl);
            }
            h = h.concat(xl, -1);
        }
        NDArray positions = in.get(Inputs.POSITION);
        NDArray bias = lookup(positions, store.getValue(positionBias, positions.getDevice(), training)).reshape(n);
        NDArray logit = head.apply(store, h, training).reshape(n).add(bias);
        if (wide != null) {
            logit = logit.add(wideAndFm(store, sparse, fields, training));
        }
        if (training && am2 != null && in.size() > Inputs.SCENARIO) {
            NDArray scenario = lookup(in.get(Inputs.SCENARIO), embeddingTable).reshape(n, -1);
            return new NDList(logit, am2.apply(store, h, scenario, training));
        }
        return new NDList(logit);
    }

    /**
     * Per sample: the sum of the ids' learnt scalars plus the FM pairwise term
     * {@code 0.5 * sum_d((sum_f e_fd)^2 - sum_f e_fd^2)}; padding ids (bucket 0) take no part.
     */
    private NDArray wideAndFm(ParameterStore store, NDArray sparse, NDArray fields, boolean training) {
        long n = sparse.getShape().get(0);
        NDArray present = sparse.gt(0).toType(DataType.FLOAT32, false); // [N, F]
        NDArray scalars = lookup(sparse, store.getValue(wide, sparse.getDevice(), training)).reshape(present.getShape());
        NDArray linear = scalars.mul(present).sum(new int[] {1});
        NDArray e = fields.mul(present.expandDims(-1)); // [N, F, d]
        NDArray pairwise = e.sum(new int[] {1}).square().sub(e.square().sum(new int[] {1})).sum(new int[] {1})
                .mul(Scalar.of(sparse.getManager(), 0.5f));
        return linear.add(pairwise).reshape(n);
    }

    /** TEM4CTR over the users' histories, computed once per user row and gathered per candidate. */
    private NDArray history(ParameterStore store, NDList in, NDArray target, NDArray embeddingTable, boolean training) {
        NDArray clickIds = in.get(Inputs.CLICKS);
        NDArray unclickIds = in.get(Inputs.UNCLICKS);
        long u = clickIds.getShape().get(0);
        long l = clickIds.getShape().get(1);
        long k = unclickIds.getShape().get(2);
        int d = config.embeddingDim();
        NDArray clickMask = clickIds.gt(0).toType(DataType.FLOAT32, false);
        NDArray unclickMask = unclickIds.gt(0).toType(DataType.FLOAT32, false);
        NDArray clicks = lookup(clickIds, embeddingTable).mul(clickMask.expandDims(-1));
        NDArray unclicks = lookup(unclickIds, embeddingTable).mul(unclickMask.expandDims(-1));
        NDList user = tem4ctr.userPart(store, clicks, unclicks, unclickMask, training);
        NDArray userIndex = in.get(Inputs.USER_INDEX);
        long n = userIndex.getShape().get(0);
        NDArray enhanced = lookup(userIndex, user.get(0).reshape(u, l * d)).reshape(n, l, d);
        NDArray aggregated = lookup(userIndex, user.get(1).reshape(u, l * d)).reshape(n, l, d);
        NDArray mask = lookup(userIndex, clickMask).reshape(n, l);
        return tem4ctr.targetPart(store, target, enhanced, aggregated, mask, training);
    }

    /** Rows of {@code matrix} at {@code indices}; the result belongs to the indices' (per-batch) manager. */
    static NDArray lookup(NDArray indices, NDArray matrix) {
        return indices.getNDArrayInternal().embedding(indices, matrix, SparseFormat.DENSE).singletonOrThrow();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        return new Shape[] {new Shape(in[0].get(0))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        if (tem4ctr != null) {
            tem4ctr.initialize(manager, dataType, new Shape(1, config.embeddingDim()));
        }
        backbone.initialize(manager, dataType, new Shape(1, backboneInputs));
        for (Dense layer : cross) {
            layer.initialize(manager, dataType, new Shape(1, backboneInputs));
        }
        head.initialize(manager, dataType, new Shape(1, hidden));
        if (am2 != null) {
            am2.initialize(manager, dataType, new Shape(1, hidden), new Shape(1, (long) config.scenarioFields() * config.embeddingDim()));
        }
    }
}
