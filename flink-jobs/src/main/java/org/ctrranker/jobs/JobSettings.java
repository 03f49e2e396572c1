package org.ctrranker.jobs;

import java.time.Duration;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.operators.joins.JoinConfig;

/** Turns the job's flat settings into the small config objects of the operators. */
final class JobSettings {

    private JobSettings() {}

    static JoinConfig joins(CtrConfig config) {
        return JoinConfig.builder()
                .attributionWindowMs(config.longValue("ctr.attribution.window-ms"))
                .mode(JoinConfig.DelayedFeedbackMode.parse(config.string("ctr.attribution.delayed-feedback-mode")))
                .auctionWaitMs(config.longValue("ctr.join.auction-wait-ms"))
                .auctionRetentionMs(config.longValue("ctr.join.auction-retention-ms"))
                .clickWaitMs(config.longValue("ctr.attribution.click-wait-ms"))
                .lateClickGraceMs(config.longValue("ctr.attribution.late-click-grace-ms"))
                .stateTtlMs(config.longValue("ctr.join.state-ttl-ms"))
                .build();
    }

    /**
     * Whether samples go through click attribution without their feedback snapshot, parked meanwhile per user
     * ({@code ctr.attribution.park-feedback}): {@code auto} parks on the heap state backend, where the samples' bytes
     * are the memory the window holds; on RocksDB they sit on disk, compressed about as small as parked, and runs
     * in turns showed no difference in CPU (local-env/MEASUREMENTS.md, stops 55 and 56).
     */
    static boolean parkFeedback(CtrConfig config, String stateBackend) {
        String text = config.string("ctr.attribution.park-feedback").trim().toLowerCase(java.util.Locale.ROOT);
        return switch (text) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> stateBackend.trim().equalsIgnoreCase("hashmap");
            default -> throw new IllegalArgumentException("ctr.attribution.park-feedback '" + text
                    + "' is unknown: use auto, true or false");
        };
    }

    static Duration millis(CtrConfig config, String key) {
        return Duration.ofMillis(config.longValue(key));
    }
}
