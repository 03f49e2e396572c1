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

    static Duration millis(CtrConfig config, String key) {
        return Duration.ofMillis(config.longValue(key));
    }
}
