package org.ctrranker.models;

/**
 * What the served model sees of one candidate: hashed id keys (one per sparse field, see
 * {@link FeatureHash}), dense features, and the position it is scored for (0: none; serving scores
 * every candidate for the same position, so the additive position bias never changes the ranking).
 */
public record Features(long[] ids, float[] dense, int position) {

    private static final float[] NO_DENSE = new float[0];

    public Features {
        if (dense == null) {
            dense = NO_DENSE;
        }
    }

    public static Features of(long... ids) {
        return new Features(ids, NO_DENSE, 0);
    }
}
