package org.ctrranker.operators.features;

import org.ctrranker.events.AdClick;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.events.TrainingSample;

/** Builds the records the feedback and statistics operators take, with only what they read varying. */
final class FeedbackEvents {

    private FeedbackEvents() {}

    static TrainingSample impression(String userId, String impressionId, String adId, long timeMs) {
        return sample(userId, impressionId, adId, timeMs, "slot-1", 1, 1_000_000L, 500_000L, 0);
    }

    static TrainingSample sample(String userId, String impressionId, String adId, long timeMs, String slotId,
            int position, long bidMicros, long marketPriceMicros, int label) {
        return TrainingSample.newBuilder()
                .setSampleId(impressionId + ":WINDOW_CLOSED")
                .setImpressionId(impressionId)
                .setAuctionId("auction-" + impressionId)
                .setUserId(userId)
                .setAdId(adId)
                .setCampaignId("campaign-" + adId)
                .setAdvertiserId("advertiser-1")
                .setCategoryId("cat-" + adId)
                .setScenario(Scenario.newBuilder().setPageId("page-1").setSlotId(slotId).build())
                .setContext(RequestContext.newBuilder().build())
                .setRequestTimeMs(timeMs)
                .setImpressionTimeMs(timeMs)
                .setBidMicros(bidMicros)
                .setMarketPriceMicros(marketPriceMicros)
                .setPosition(position)
                .setLabel(label)
                .setAttributionWindowMs(0L)
                .setLabelTimeMs(timeMs)
                .build();
    }

    static AdClick click(String userId, String impressionId, long clickTimeMs) {
        return AdClick.newBuilder()
                .setClickId("click-" + impressionId + "-" + clickTimeMs)
                .setImpressionId(impressionId)
                .setUserId(userId)
                .setAdId("ad")
                .setClickTimeMs(clickTimeMs)
                .build();
    }
}
