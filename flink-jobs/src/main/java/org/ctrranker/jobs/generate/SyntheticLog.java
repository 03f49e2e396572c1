package org.ctrranker.jobs.generate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.eval.LoggedAuction;
import org.ctrranker.schemas.EventTopic;

/**
 * The generator's stream as a log for the model evaluation: each auction with its shown
 * impressions, their labels under the attribution window, bids, market prices and the hidden true
 * CTR (for the Bayes-optimal AUC). Faults are off: this measures the model, not the pipeline.
 */
public final class SyntheticLog {

    private SyntheticLog() {}

    /** The last {@code testFraction} of the auctions (in time order) form the test split. */
    public static List<LoggedAuction> generate(long seed, long auctions, int users, double testFraction) {
        GeneratorConfig config = GeneratorConfig.builder().seed(seed).auctions(auctions).users(users).noFaults().build();
        Map<String, AdAuction> byId = new HashMap<>();
        GroundTruth truth = new SyntheticEventGenerator(config).run(record -> {
            if (record.topic() == EventTopic.AD_AUCTIONS && record.value() instanceof AdAuction a) {
                byId.put(a.getAuctionId(), a);
            }
        });
        Map<String, List<ImpressionTruth>> shown = new LinkedHashMap<>();
        for (ImpressionTruth t : truth.impressionTruths()) {
            shown.computeIfAbsent(t.auctionId(), k -> new ArrayList<>()).add(t);
        }
        long testFrom = Math.round(auctions * (1 - testFraction));
        List<LoggedAuction> out = new ArrayList<>(shown.size());
        for (Map.Entry<String, List<ImpressionTruth>> e : shown.entrySet()) {
            AdAuction a = byId.get(e.getKey());
            String segment = a.getContext().getUserTags().isEmpty() ? "none" : a.getContext().getUserTags().get(0);
            long[] context = {FeatureHash.of("slot", a.getScenario().getSlotId()),
                FeatureHash.of("page", a.getScenario().getPageId()),
                FeatureHash.of("device", String.valueOf(a.getContext().getDeviceType())),
                FeatureHash.of("region", String.valueOf(a.getContext().getRegion())),
                FeatureHash.of("hour", Integer.toString(a.getContext().getHourOfDay())),
                FeatureHash.of("segment", segment)};
            List<LoggedAuction.LoggedItem> items = new ArrayList<>();
            for (ImpressionTruth t : e.getValue()) {
                Candidate c = a.getCandidates().stream().filter(x -> x.getAdId().equals(t.adId())).findFirst().orElseThrow();
                long marketPrice = a.getWinners().stream().filter(w -> w.getPosition() == t.position())
                        .mapToLong(AuctionWinner::getMarketPriceMicros).findFirst().orElseThrow();
                long[] keys = {FeatureHash.of("campaign", c.getCampaignId()), FeatureHash.of("advertiser", c.getAdvertiserId()),
                    FeatureHash.of("category", c.getCategoryId()),
                    FeatureHash.of("user-category", a.getUserId() + "|" + c.getCategoryId()),
                    FeatureHash.of("segment-category", segment + "|" + c.getCategoryId())};
                items.add(new LoggedAuction.LoggedItem(t.adId(), keys, c.getCategoryId(), t.position(),
                        t.clickedWithinWindow() ? 1 : 0, c.getBidMicros() / 1e6, marketPrice / 1e6,
                        new long[] {FeatureHash.of("slot", a.getScenario().getSlotId()),
                            FeatureHash.of("position", Integer.toString(t.position()))}, t.trueCtr()));
            }
            long n = Long.parseLong(e.getKey().substring(e.getKey().indexOf('-') + 1));
            out.add(new LoggedAuction(a.getUserId(), a.getRequestTimeMs(), context, items, n >= testFrom, List.of()));
        }
        return out;
    }
}
