package org.ctrranker.operators.joins;

import java.time.Duration;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;

/** The processing-time TTL every join state carries as a safety net behind its event-time timers. */
final class StateTtl {

    private StateTtl() {}

    static <D extends StateDescriptor<?, ?>> D withTtl(D descriptor, long ttlMs) {
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofMillis(ttlMs))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
        return descriptor;
    }
}
