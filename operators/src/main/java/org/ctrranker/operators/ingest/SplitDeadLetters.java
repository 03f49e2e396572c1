package org.ctrranker.operators.ingest;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.runtime.BackgroundPriority;

/** Valid events go on; dead letters go to {@link #DEAD_LETTERS}. */
public final class SplitDeadLetters<T> extends ProcessFunction<Either<DeadLetter, T>, T> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", org.ctrranker.operators.serde.AvroTypeInfo.forRecord(DeadLetter.class));

    private final String sourceName;
    private final boolean background;
    private transient JobCounter events;
    private transient JobCounter deadLetters;
    private transient long maxEventTime;
    private transient long currentWatermark;

    /**
     * @param sourceName names this source's counters: {@code events.<name>} and {@code deadLetters.<name>}
     * @param background the source feeds only work with slack (the joins, features, trainer): its task and fetcher
     *     threads yield to the scoring path ({@link BackgroundPriority})
     */
    public SplitDeadLetters(String sourceName, boolean background) {
        this.sourceName = sourceName;
        this.background = background;
    }

    @Override
    public void open(OpenContext openContext) {
        if (background) {
            // opened before the source reader starts its fetcher thread, which so inherits the priority
            BackgroundPriority.lower(getRuntimeContext());
        }
        events = JobCounter.register(getRuntimeContext(), "events." + sourceName);
        deadLetters = JobCounter.register(getRuntimeContext(), "deadLetters." + sourceName);
        // here, not in the declarations: the task gets this function by Java serialization, which skips them
        maxEventTime = Long.MIN_VALUE;
        currentWatermark = Long.MIN_VALUE;
        // How far this source's watermark trails the newest event it has seen.
        getRuntimeContext().getMetricGroup().gauge("watermarkLagMs", () ->
                maxEventTime == Long.MIN_VALUE || currentWatermark == Long.MIN_VALUE ? 0L : maxEventTime - currentWatermark);
    }

    @Override
    public void processElement(Either<DeadLetter, T> value, Context ctx, Collector<T> out) {
        if (value.isRight()) {
            events.inc();
            maxEventTime = Math.max(maxEventTime, ctx.timestamp() == null ? Long.MIN_VALUE : ctx.timestamp());
            currentWatermark = ctx.timerService().currentWatermark();
            out.collect(value.right());
        } else {
            deadLetters.inc();
            ctx.output(DEAD_LETTERS, value.left());
        }
    }
}
