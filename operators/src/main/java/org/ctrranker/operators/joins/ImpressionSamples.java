package org.ctrranker.operators.joins;

import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;

/**
 * Builds the not-yet-labelled sample of an impression from its auction. The auction's {@code backfill} flag
 * (replayed history: feeds user features only) is carried into the sample, so the feature stages still
 * count it while the trainer skips it.
 */
public final class ImpressionSamples {

    private ImpressionSamples() {}

    /** @return null when the impression's ad did not win the auction */
    public static TrainingSample of(AdAuction auction, AdImpression impression, long attributionWindowMs) {
        AuctionWinner winner = null;
        for (AuctionWinner w : auction.getWinners()) {
            if (w.getAdId().equals(impression.getAdId())) {
                winner = w;
                break;
            }
        }
        if (winner == null) {
            return null;
        }
        Candidate candidate = null;
        for (Candidate c : auction.getCandidates()) {
            if (c.getAdId().equals(impression.getAdId())) {
                candidate = c;
                break;
            }
        }
        return TrainingSample.newBuilder()
                .setSampleId(impression.getImpressionId())
                .setImpressionId(impression.getImpressionId())
                .setAuctionId(auction.getAuctionId())
                .setUserId(impression.getUserId())
                .setAdId(impression.getAdId())
                .setCampaignId(candidate.getCampaignId())
                .setAdvertiserId(candidate.getAdvertiserId())
                .setCategoryId(candidate.getCategoryId())
                .setScenario(auction.getScenario())
                .setContext(auction.getContext())
                .setRequestTimeMs(auction.getRequestTimeMs())
                .setImpressionTimeMs(impression.getImpressionTimeMs())
                .setPricing(auction.getPricing())
                .setBidMicros(candidate.getBidMicros())
                .setFloorPriceMicros(auction.getFloorPriceMicros())
                .setMarketPriceMicros(winner.getMarketPriceMicros())
                .setPosition(impression.getPosition())
                .setLabel(0)
                .setSampleType(SampleType.WINDOW_CLOSED)
                .setAttributionWindowMs(attributionWindowMs)
                .setLabelTimeMs(impression.getImpressionTimeMs() + attributionWindowMs)
                .setBackfill(auction.getBackfill())
                .setCandidateCount(auction.getCandidates().size())
                .build();
    }
}
