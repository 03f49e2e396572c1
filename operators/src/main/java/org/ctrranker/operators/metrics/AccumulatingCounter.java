package org.ctrranker.operators.metrics;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;

/**
 * A Flink metric counter whose counts are also summed over subtasks into the job's result as the
 * accumulator {@code <group>.<name>}, so a bounded run can print them (as {@link JobCounter} does for
 * root-level counts) while the metric keeps its place in the group.
 */
public final class AccumulatingCounter implements Counter {

    private final SimpleCounter metric = new SimpleCounter();
    private final LongCounter accumulator = new LongCounter();

    private AccumulatingCounter() {}

    /** Registers the metric {@code name} in {@code group} and the accumulator {@code groupName.name}. */
    public static Counter register(RuntimeContext context, MetricGroup group, String groupName, String name) {
        AccumulatingCounter counter = new AccumulatingCounter();
        context.addAccumulator(groupName + "." + name, counter.accumulator);
        return group.counter(name, counter);
    }

    @Override
    public void inc() {
        inc(1);
    }

    @Override
    public void inc(long n) {
        metric.inc(n);
        accumulator.add(n);
    }

    @Override
    public void dec() {
        dec(1);
    }

    @Override
    public void dec(long n) {
        metric.dec(n);
        accumulator.add(-n);
    }

    @Override
    public long getCount() {
        return metric.getCount();
    }
}
