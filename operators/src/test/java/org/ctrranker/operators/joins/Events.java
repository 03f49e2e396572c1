package org.ctrranker.operators.joins;

import java.util.List;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;

/** Small hand-made events for the join tests. */
final class Events {

    static final long T0 = 1_767_571_200_000L;

    private Events() {}

    /** Two candidates; ad-1 wins position 1 paying the second bid. */
    static AdAuction auction(String auctionId, long timeMs) {
        return new AdAuction(auctionId, timeMs, "u1", new Scenario("page", "slot-1", null, 300, 250, null, null),
                new RequestContext(null, null, null, null, 10, 1, List.of("seg-1")), Pricing.CPC, 50_000L,
                List.of(new Candidate("ad-1", "c1", "adv1", "cat-1", 900_000L),
                        new Candidate("ad-2", "c2", "adv2", "cat-2", 600_000L)),
                List.of(new AuctionWinner("ad-1", 1, 600_000L)), false);
    }

    static AdImpression impression(String auctionId, String adId, long timeMs) {
        return new AdImpression(auctionId + "-p1", auctionId, "u1", adId, 1, timeMs);
    }

    static AdClick click(String impressionId, long timeMs) {
        return new AdClick(impressionId + "-c", impressionId, "u1", "ad-1", timeMs);
    }
}
