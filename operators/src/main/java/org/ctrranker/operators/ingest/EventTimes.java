package org.ctrranker.operators.ingest;

import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.types.Either;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.DeadLetter;

/** The event time of each input event. */
public final class EventTimes {

    private EventTimes() {}

    public static long of(Object event) {
        if (event instanceof AdAuction a) {
            return a.getRequestTimeMs();
        }
        if (event instanceof AdImpression i) {
            return i.getImpressionTimeMs();
        }
        if (event instanceof AdClick c) {
            return c.getClickTimeMs();
        }
        throw new IllegalArgumentException("no event time for " + event.getClass().getName());
    }

    /**
     * Dead letters get the lowest timestamp so they never advance a watermark; they leave the
     * pipeline right after the source anyway.
     */
    public static <T> SerializableTimestampAssigner<Either<DeadLetter, T>> assigner() {
        return (element, recordTimestamp) -> element.isRight() ? of(element.right()) : Long.MIN_VALUE;
    }
}
