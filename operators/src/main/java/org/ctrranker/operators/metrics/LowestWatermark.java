package org.ctrranker.operators.metrics;

import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.flink.api.common.accumulators.SimpleAccumulator;

/**
 * An operator's current watermark as an accumulator: each subtask holds its latest one, and merging keeps
 * the lowest, so a client polling the running job's accumulators ({@code bench e2e}) sees how far the
 * slowest subtask's event time trails the wall clock without Flink's REST metrics (fetched every 10 s).
 * {@link Long#MIN_VALUE} until every subtask has had a watermark.
 */
public final class LowestWatermark implements SimpleAccumulator<Long> {

    private static final long serialVersionUID = 1L;

    private long watermark = Long.MIN_VALUE;

    /** Replaces this subtask's watermark: watermarks only rise, so the latest one is the current one. */
    @Override
    public void add(Long value) {
        watermark = value;
    }

    @Override
    public Long getLocalValue() {
        return watermark;
    }

    @Override
    public void resetLocal() {
        watermark = Long.MIN_VALUE;
    }

    @Override
    public void merge(Accumulator<Long, Long> other) {
        watermark = Math.min(watermark, other.getLocalValue());
    }

    @Override
    public LowestWatermark clone() {
        LowestWatermark copy = new LowestWatermark();
        copy.watermark = watermark;
        return copy;
    }
}
