package org.ctrranker.operators.ingest;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.operators.metrics.JobCounter;

/** Valid events go on; dead letters go to {@link #DEAD_LETTERS}. */
public final class SplitDeadLetters<T> extends ProcessFunction<Either<DeadLetter, T>, T> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", org.ctrranker.operators.serde.AvroTypeInfo.forRecord(DeadLetter.class));

    private final String counterName;
    private transient JobCounter deadLetters;

    /** @param counterName the counter of this source's dead letters, e.g. {@code deadLetters.ad-clicks} */
    public SplitDeadLetters(String counterName) {
        this.counterName = counterName;
    }

    @Override
    public void open(OpenContext openContext) {
        deadLetters = JobCounter.register(getRuntimeContext(), counterName);
    }

    @Override
    public void processElement(Either<DeadLetter, T> value, Context ctx, Collector<T> out) {
        if (value.isRight()) {
            out.collect(value.right());
        } else {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, value.left());
        }
    }
}
