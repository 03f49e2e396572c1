package org.ctrranker.models;

/**
 * One labelled impression for training. Everything besides {@link #features} and {@link #history}
 * is posterior (known only after the auction or the attribution window) and used by the loss alone:
 * the label, the bid (BCM), the market price and the scenario ids (AM2), and the importance weight.
 *
 * @param bid the advertiser's bid, NaN when unknown (BCM weight 1)
 * @param marketPrice the price that won the slot, NaN when unknown (no AM2 term)
 * @param scenario hashed scenario keys conditioning AM2 (slot, position...), length = scenarioFields
 * @param weight a sample weight (1 normally)
 * @param fakeNegativeCorrection true when labels come from a stream that emits a negative first and
 *     a positive copy when a late click arrives: the loss then applies the fake-negative importance
 *     weights (1 + p for positives, (1 - p)(1 + p) for negatives, p without gradient)
 */
public record Sample(Features features, UserHistory history, int label, double bid, double marketPrice,
        long[] scenario, float weight, boolean fakeNegativeCorrection) {

    public Sample {
        if (history == null) {
            history = UserHistory.EMPTY;
        }
    }

    public static Sample of(Features features, UserHistory history, int label) {
        return new Sample(features, history, label, Double.NaN, Double.NaN, new long[0], 1f, false);
    }
}
