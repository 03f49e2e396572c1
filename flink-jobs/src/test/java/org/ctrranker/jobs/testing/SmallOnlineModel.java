package org.ctrranker.jobs.testing;

import java.util.Map;

/**
 * Job settings of a small model and short windows for the online-job tests: they keep a test fast, and
 * the shape does not change what the tests check (rankings, versions, replays).
 */
public final class SmallOnlineModel {

    private SmallOnlineModel() {}

    public static void applyTo(Map<String, String> settings) {
        settings.put("ctr.attribution.window-ms", "5000");
        settings.put("ctr.model.hash-buckets", "4096");
        settings.put("ctr.model.embedding-dim", "8");
        settings.put("ctr.model.hidden-layers", "32,16");
        settings.put("ctr.features.feedback.max-clicks", "10");
        settings.put("ctr.features.feedback.unclicks-per-side", "2");
        settings.put("ctr.scoring.batch-max-auctions", "32");
        settings.put("ctr.training.batch-size", "128");
        settings.put("ctr.training.metrics-window", "2000");
    }
}
