package org.ctrranker.operators.features;

import org.ctrranker.events.ItemCounts;

/**
 * An ad's counts at the end of a tick, as the item statistics stage sends them to the scorers: only for the ticks in
 * which the ad had an event. A Flink POJO (public fields, no-arg constructor); never changed once made.
 */
public final class ItemTick {

    public String adId;
    /** Events at or before this event time are counted. */
    public long asOfMs;
    public long impressions;
    public long clicks;

    public ItemTick() {}

    public ItemTick(String adId, long asOfMs, long impressions, long clicks) {
        this.adId = adId;
        this.asOfMs = asOfMs;
        this.impressions = impressions;
        this.clicks = clicks;
    }

    public ItemCounts counts() {
        return new ItemCounts(asOfMs, impressions, clicks);
    }
}
