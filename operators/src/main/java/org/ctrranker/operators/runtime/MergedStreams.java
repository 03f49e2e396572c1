package org.ctrranker.operators.runtime;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.AbstractInput;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorV2;
import org.apache.flink.streaming.api.operators.Input;
import org.apache.flink.streaming.api.operators.MultipleInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.transformations.MultipleInputTransformation;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * What {@link DataStream#union} gives, read through one input per stream. A union of streams from several tasks is
 * read through Flink's {@code UnionInputGate}, which in Flink 2.2.1 (and 2.3.0) can spin forever at a full core once
 * one of its streams has ended: the finished gate gets queued again (by an availability callback, it seems, that was
 * registered before its end arrived), polling it yields nothing while it reports data available, and the union's
 * read loop polls it again without end, never reading the other streams (in bounded runs a hang at the end of the
 * input; after a failover a cancelled task that only the TaskManager's watchdog ends). A task with one input per
 * stream reads each through its own gate, and an ended input is no longer polled. Each stream keeps the partitioning
 * it was given (keyed, broadcast, forward); records pass unchanged, watermarks as the slowest input's, and the
 * operator chains with what follows it.
 */
public final class MergedStreams {

    private MergedStreams() {}

    @SafeVarargs
    public static <T> DataStream<T> of(String name, String uid, DataStream<T> first, DataStream<T>... rest) {
        List<DataStream<T>> streams = new ArrayList<>(List.of(first));
        streams.addAll(List.of(rest));
        return of(name, uid, streams);
    }

    /** The streams merged into one, at the environment's parallelism. */
    public static <T> DataStream<T> of(String name, String uid, List<DataStream<T>> streams) {
        if (streams.size() < 2) {
            throw new IllegalArgumentException(name + ": merging needs at least two streams, got " + streams.size());
        }
        StreamExecutionEnvironment env = streams.get(0).getExecutionEnvironment();
        MultipleInputTransformation<T> merged = new MultipleInputTransformation<>(name,
                passThrough(streams.size()), streams.get(0).getType(), env.getParallelism());
        streams.forEach(stream -> merged.addInput(stream.getTransformation()));
        merged.setUid(uid);
        env.addOperator(merged);
        return new DataStream<>(env, merged);
    }

    private static <T> OperatorV2Factory<T> passThrough(int inputs) {
        return new OperatorV2Factory<>(PassThrough.class, parameters -> new PassThrough<>(parameters, inputs));
    }

    private static final class PassThrough<T> extends AbstractStreamOperatorV2<T>
            implements MultipleInputStreamOperator<T> {

        private final int inputs;

        PassThrough(StreamOperatorParameters<T> parameters, int inputs) {
            super(parameters, inputs);
            this.inputs = inputs;
        }

        @Override
        @SuppressWarnings("rawtypes")
        public List<Input> getInputs() {
            List<Input> all = new ArrayList<>(inputs);
            for (int id = 1; id <= inputs; id++) {
                all.add(new AbstractInput<T, T>(this, id) {
                    @Override
                    public void processElement(StreamRecord<T> element) {
                        output.collect(element);
                    }
                });
            }
            return all;
        }
    }
}
