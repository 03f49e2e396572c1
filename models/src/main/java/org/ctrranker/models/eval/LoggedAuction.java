package org.ctrranker.models.eval;

import java.util.List;

/**
 * One logged request with the items that were shown, as the evaluation replays it: the user, the
 * time, request-level keys (slot, device, hour...) and the shown items with their outcomes.
 *
 * @param test true when the request belongs to the test split
 */
public record LoggedAuction(String userId, long timeMs, long[] contextKeys, List<LoggedItem> items, boolean test,
        List<String> priorClicks) {

    /**
     * @param itemKeys item-level keys besides the item itself (campaign, advertiser, category...)
     * @param category the item's category for the fatigue features (null: none)
     * @param bid NaN when unknown
     * @param marketPrice NaN when unknown
     * @param scenario AM2 scenario keys (slot, position...)
     * @param trueCtr the generator's hidden click probability, NaN for real data
     */
    public record LoggedItem(String itemId, long[] itemKeys, String category, int position, int label, double bid,
            double marketPrice, long[] scenario, double trueCtr) {}
}
