package org.ctrranker.operators.ingest;

import java.util.HashMap;
import java.util.Map;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;

/**
 * The rules a decoded input event must satisfy before it enters the joins. Each check returns
 * null when the event is valid, else the first rule it breaks, naming the field.
 */
public final class EventValidator {

    private EventValidator() {}

    public static String check(Object event, ValidationRules rules, long nowMs) {
        if (event instanceof AdAuction auction) {
            return checkAuction(auction, rules, nowMs);
        }
        if (event instanceof AdImpression impression) {
            return checkImpression(impression, rules, nowMs);
        }
        if (event instanceof AdClick click) {
            return checkClick(click, rules, nowMs);
        }
        return "unsupported event type " + event.getClass().getName();
    }

    static String checkAuction(AdAuction a, ValidationRules rules, long nowMs) {
        String problem = firstMissing("auction_id", a.getAuctionId(), "user_id", a.getUserId());
        if (problem != null) {
            return problem;
        }
        if (a.getScenario() == null || isBlank(a.getScenario().getSlotId())) {
            return "missing scenario.slot_id";
        }
        if (a.getCandidates().isEmpty()) {
            return "auction has no candidates";
        }
        if (a.getFloorPriceMicros() < 0) {
            return "negative floor_price_micros " + a.getFloorPriceMicros();
        }
        Map<String, Long> bids = new HashMap<>();
        for (Candidate c : a.getCandidates()) {
            if (isBlank(c.getAdId())) {
                return "candidate without ad_id";
            }
            if (c.getBidMicros() < 0) {
                return "negative bid_micros " + c.getBidMicros() + " of ad " + c.getAdId();
            }
            bids.put(c.getAdId(), c.getBidMicros());
        }
        for (AuctionWinner w : a.getWinners()) {
            Long bid = bids.get(w.getAdId());
            if (bid == null) {
                return "winner " + w.getAdId() + " is not a candidate";
            }
            if (w.getPosition() < 1) {
                return "winner " + w.getAdId() + " has position " + w.getPosition() + " (must be >= 1)";
            }
            if (w.getMarketPriceMicros() < 0) {
                return "negative market_price_micros " + w.getMarketPriceMicros() + " of winner " + w.getAdId();
            }
            if (w.getMarketPriceMicros() > bid) {
                return "market price " + w.getMarketPriceMicros() + " above the winner's bid " + bid + " (ad "
                        + w.getAdId() + ")";
            }
        }
        return rules.checkEventTime("request_time_ms", a.getRequestTimeMs(), nowMs);
    }

    static String checkImpression(AdImpression i, ValidationRules rules, long nowMs) {
        String problem = firstMissing("impression_id", i.getImpressionId(), "auction_id", i.getAuctionId(),
                "user_id", i.getUserId(), "ad_id", i.getAdId());
        if (problem != null) {
            return problem;
        }
        if (i.getPosition() < 1) {
            return "position " + i.getPosition() + " (must be >= 1)";
        }
        return rules.checkEventTime("impression_time_ms", i.getImpressionTimeMs(), nowMs);
    }

    static String checkClick(AdClick c, ValidationRules rules, long nowMs) {
        String problem = firstMissing("click_id", c.getClickId(), "impression_id", c.getImpressionId(),
                "user_id", c.getUserId());
        if (problem != null) {
            return problem;
        }
        return rules.checkEventTime("click_time_ms", c.getClickTimeMs(), nowMs);
    }

    private static String firstMissing(String... namesAndValues) {
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (isBlank(namesAndValues[i + 1])) {
                return "missing " + namesAndValues[i];
            }
        }
        return null;
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
