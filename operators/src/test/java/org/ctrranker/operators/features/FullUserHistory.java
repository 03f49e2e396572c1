package org.ctrranker.operators.features;

import static org.ctrranker.operators.features.FeedbackEvents.click;
import static org.ctrranker.operators.features.FeedbackEvents.impression;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;

/**
 * The largest state the default settings allow a user: more than L = 30 clicks, each with R = 5
 * unclicks of its own before and after it (no slot shared), with production-like ids (UUID impression
 * ids, 10-character ad ids, 7-character categories). Used to measure bytes per user.
 */
final class FullUserHistory {

    static final long START_MS = 1_700_000_000_000L;
    static final long GAP_MS = 60_000;

    private FullUserHistory() {}

    record Events(List<TrainingSample> impressions, List<AdClick> clicks, long lastTimeMs) {

        /** Into a user feedback harness: every impression, then every click, each at its event time. */
        void feed(KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> harness)
                throws Exception {
            for (TrainingSample s : impressions) {
                harness.processElement1(s, s.getImpressionTimeMs());
            }
            for (AdClick c : clicks) {
                harness.processElement2(c, c.getClickTimeMs());
            }
        }
    }

    static Events of(String userId, int clicks) {
        List<TrainingSample> impressions = new ArrayList<>();
        List<AdClick> clickEvents = new ArrayList<>();
        long t = START_MS;
        int n = 0;
        for (int c = 0; c < clicks; c++) {
            for (int u = 0; u < 10; u++) { // 5 after the previous click and 5 before this one
                impressions.add(exposure(userId, n++, t));
                t += GAP_MS;
            }
            TrainingSample clicked = exposure(userId, n++, t);
            impressions.add(clicked);
            clickEvents.add(click(userId, clicked.getImpressionId(), t + 5_000));
            t += GAP_MS;
        }
        for (int u = 0; u < 5; u++) {
            impressions.add(exposure(userId, n++, t));
            t += GAP_MS;
        }
        return new Events(impressions, clickEvents, t);
    }

    private static TrainingSample exposure(String userId, int n, long t) {
        TrainingSample s = impression(userId, UUID.nameUUIDFromBytes((userId + n).getBytes()).toString(),
                String.format("ad-%07d", 1_000_000 + n * 7919 % 9_000_000), t);
        s.setCategoryId(String.format("cat-%03d", n % 500));
        return s;
    }
}
