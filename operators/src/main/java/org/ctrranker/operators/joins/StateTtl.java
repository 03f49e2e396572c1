package org.ctrranker.operators.joins;

import java.time.Duration;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;

/**
 * The processing-time TTL every join state carries as a safety net behind its event-time timers.
 * Expired entries are dropped in full snapshots and RocksDB compactions, not by the heap backend's
 * incremental cleanup, which walks state entries on every access (a fifth of the join's CPU).
 */
final class StateTtl {

    private StateTtl() {}

    static <D extends StateDescriptor<?, ?>> D withTtl(D descriptor, long ttlMs) {
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofMillis(ttlMs))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .disableCleanupInBackground()
                .cleanupFullSnapshot()
                .cleanupInRocksdbCompactFilter(1000)
                .build());
        return descriptor;
    }
}
