package org.ctrranker.operators.metrics;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;

/**
 * A count reported twice: as a Flink metric (live, for Prometheus) and as an accumulator (summed
 * over subtasks into the job's result, which {@code bin/ctr run --bounded} prints).
 */
public final class JobCounter {

    private final Counter metric;
    private final LongCounter accumulator;

    private JobCounter(Counter metric, LongCounter accumulator) {
        this.metric = metric;
        this.accumulator = accumulator;
    }

    public static JobCounter register(RuntimeContext context, String name) {
        LongCounter accumulator = new LongCounter();
        context.addAccumulator(name, accumulator);
        return new JobCounter(context.getMetricGroup().counter(name), accumulator);
    }

    public void inc() {
        metric.inc();
        accumulator.add(1L);
    }

    public long count() {
        return metric.getCount();
    }
}
