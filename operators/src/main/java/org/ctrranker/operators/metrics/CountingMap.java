package org.ctrranker.operators.metrics;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/** Passes records through, counting them under one name. */
public final class CountingMap<T> extends RichMapFunction<T, T> {

    private static final long serialVersionUID = 1L;

    private final String name;
    private transient JobCounter counter;

    public CountingMap(String name) {
        this.name = name;
    }

    @Override
    public void open(OpenContext openContext) {
        counter = JobCounter.register(getRuntimeContext(), name);
    }

    @Override
    public T map(T value) {
        counter.inc();
        return value;
    }
}
