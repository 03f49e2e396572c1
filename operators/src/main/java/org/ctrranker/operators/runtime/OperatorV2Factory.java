package org.ctrranker.operators.runtime;

import java.io.Serializable;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Builds an operator that needs its task's parameters in its constructor (an {@code AbstractStreamOperatorV2}, the
 * only kind that can have more than two inputs) in the task, chained with what follows it whenever Flink can.
 */
public final class OperatorV2Factory<OUT> extends AbstractStreamOperatorFactory<OUT> {

    private static final long serialVersionUID = 1L;

    /** The operator's constructor; what it captures travels with the job graph, so it must be serializable. */
    @FunctionalInterface
    public interface Constructor<OUT> extends Serializable {
        StreamOperator<OUT> create(StreamOperatorParameters<OUT> parameters);
    }

    @SuppressWarnings("rawtypes")
    private final Class<? extends StreamOperator> operatorClass;
    private final Constructor<OUT> constructor;

    @SuppressWarnings("rawtypes")
    public OperatorV2Factory(Class<? extends StreamOperator> operatorClass, Constructor<OUT> constructor) {
        this.operatorClass = operatorClass;
        this.constructor = constructor;
        setChainingStrategy(ChainingStrategy.ALWAYS);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <O extends StreamOperator<OUT>> O createStreamOperator(StreamOperatorParameters<OUT> parameters) {
        return (O) constructor.create(parameters);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return operatorClass;
    }
}
