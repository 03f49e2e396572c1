package org.ctrranker.jobs.generate;

/**
 * What the generator knows about one impression: its true click probability and its label under
 * the attribution window (clicked, and the first click within the window).
 */
public record ImpressionTruth(String impressionId, String auctionId, String userId, String adId, String categoryId,
        int position, long impressionTimeMs, double trueCtr, boolean clickedWithinWindow) {}
