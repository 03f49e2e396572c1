package org.ctrranker.models.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * TEM4CTR (MODEL-NOTES 2.4, as in the authors' code): each historical click attends over its K
 * time-aligned unclicked exposures (query = the click), the aggregate is projected onto the click
 * and added to it, then two target-attention branches (enhanced clicks, aggregated unclicks) pool
 * the history for the candidate.
 *
 * <p>The work splits in two so serving can share it: {@link #userPart} depends only on the user's
 * history (the L x K attention) and runs once per user;
 * {@link #targetPart} runs per candidate.
 */
public final class Tem4CtrBlock extends AbstractBlock {

    /** Added to the scores of padded slots; large enough to vanish in softmax, safe in float32. */
    private static final float MASKED = -1e9f;
    /**
     * The packed attention calls' rows are padded to a multiple of this: MKL's sgemm sums a row of a partial
     * block in another order, and a request's scores would then depend on its micro-batch (scoreBatchInvariant).
     */
    private static final long PACKED_ROWS_STEP = 16;

    private final int dim;
    private final Mlp aggregation;
    private final Mlp clickAttention;
    private final Mlp unclickAttention;

    public Tem4CtrBlock(int dim) {
        super((byte) 1);
        this.dim = dim;
        this.aggregation = addChildBlock("aggregation", new Mlp(4 * dim, false, 80, 40, 1));
        this.clickAttention = addChildBlock("click_attention", new Mlp(4 * dim, false, 80, 40, 1));
        this.unclickAttention = addChildBlock("unclick_attention", new Mlp(4 * dim, false, 80, 40, 1));
    }

    /** Width of {@link #targetPart}'s output: the click and the unclick pooling. */
    public int outputs() {
        return 2 * dim;
    }

    /**
     * The per-user part.
     *
     * @param clicks masked click embeddings [U, L, d]
     * @param unclicks masked aligned-unclick embeddings [U, L, K, d]
     * @param unclickMask 1 for real slots [U, L, K]
     * @return [enhanced clicks ct [U, L, d], aggregated unclicks a [U, L, d]]
     */
    public NDList userPart(ParameterStore store, NDArray clicks, NDArray unclicks, NDArray unclickMask, boolean training) {
        NDArray scores = maskedScores(store, aggregation, clicks.reshape(-1, dim), unclicks.reshape(-1, dim), unclickMask,
                training);
        NDArray alpha = scores.softmax(-1).expandDims(-1);
        NDArray aggregated = unclicks.mul(alpha).sum(new int[] {2});
        NDArray enhanced = clicks.add(project(aggregated, clicks));
        return new NDList(enhanced, aggregated);
    }

    /**
     * The per-candidate part.
     *
     * @param target candidate item embedding [N, d]
     * @param enhanced ct gathered per candidate [N, L, d]
     * @param aggregated a gathered per candidate [N, L, d]
     * @param clickMask 1 for real clicks [N, L]
     * @return [v_click, v_unclick] concatenated [N, 2d]
     */
    public NDArray targetPart(ParameterStore store, NDArray target, NDArray enhanced, NDArray aggregated,
            NDArray clickMask, boolean training) {
        NDArray clickWeights = maskedScores(store, clickAttention, target, enhanced.reshape(-1, dim), clickMask, training)
                .softmax(-1).expandDims(-1);
        NDArray unclickWeights = maskedScores(store, unclickAttention, target, aggregated.reshape(-1, dim), clickMask,
                training).softmax(-1).expandDims(-1);
        NDArray vClick = enhanced.mul(clickWeights).sum(new int[] {1});
        NDArray vUnclick = aggregated.mul(unclickWeights).sum(new int[] {1});
        return vClick.concat(vUnclick, -1);
    }

    /** The part of {@code a} parallel to {@code c}, over the last axis: (<a,c> / (|c|^2 + 1e-12)) c. */
    public static NDArray project(NDArray a, NDArray c) {
        NDArray coefficient = a.mul(c).sum(new int[] {-1}, true).div(c.mul(c).sum(new int[] {-1}, true).add(1e-12f));
        return c.mul(coefficient);
    }

    /**
     * DIN-style scores MLP([q, k, q-k, q*k]), shaped as {@code mask} [..., m]: the i-th query (of the mask's rows of
     * m) against its m keys, rows i * m to i * m + m - 1 of {@code keys}. Only the real positions are scored, packed
     * into one call; a padded one gets {@link #MASKED} (histories are padded to L clicks and K slots, most of them
     * padding, and a padded score vanishes in softmax anyway).
     */
    private static NDArray maskedScores(ParameterStore store, Mlp mlp, NDArray queries, NDArray keys, NDArray mask,
            boolean training) {
        Shape shape = mask.getShape();
        long m = shape.get(shape.dimension() - 1);
        NDArray real = mask.reshape(-1, m).nonzero(); // [P, 2]: (query, position)
        long p = real.getShape().get(0);
        long rows = Math.max(1, (p + PACKED_ROWS_STEP - 1) / PACKED_ROWS_STEP) * PACKED_ROWS_STEP;
        if (rows > p) {
            real = real.concat(real.getManager().zeros(new Shape(rows - p, 2), real.getDataType()), 0);
        }
        NDArray query = real.get(":, 0");
        NDArray key = query.mul(m).add(real.get(":, 1"));
        NDArray q = CtrNetwork.lookup(query, queries);
        NDArray k = CtrNetwork.lookup(key, keys);
        NDArray features = NDArrays.concat(new NDList(q, k, q.sub(k), q.mul(k)), -1);
        NDArray packed = mlp.apply(store, features, training).reshape(rows, 1);
        // Each position's row among the packed scores; a padded one's is the row after them, the masked score.
        // (A gather: scattering the packed scores into a masked array was slower.)
        NDArray isReal = mask.reshape(-1).toType(DataType.INT64, false);
        NDArray row = isReal.cumSum(0).sub(1).mul(isReal).add(isReal.neg().add(1).mul(rows));
        NDArray masked = packed.getManager().full(new Shape(1, 1), MASKED, packed.getDataType());
        return CtrNetwork.lookup(row, packed.concat(masked, 0)).reshape(shape);
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList in, boolean training, PairList<String, Object> params) {
        // inputs: target [N,d], clicks [N,L,d], unclicks [N,L,K,d], click mask [N,L], unclick mask [N,L,K]
        NDList user = userPart(store, in.get(1), in.get(2), in.get(4), training);
        return new NDList(targetPart(store, in.get(0), user.get(0), user.get(1), in.get(3), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
        return new Shape[] {new Shape(in[0].get(0), 2L * dim)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        for (Mlp mlp : new Mlp[] {aggregation, clickAttention, unclickAttention}) {
            mlp.initialize(manager, dataType, new Shape(1, 4L * dim));
        }
    }
}
