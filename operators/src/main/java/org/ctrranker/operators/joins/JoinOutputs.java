package org.ctrranker.operators.joins;

import java.nio.charset.StandardCharsets;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.operators.ingest.DeadLetters;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.schemas.EventTopic;

/** Side outputs of the joins: what did not become part of a labelled sample, and why. */
public final class JoinOutputs {

    /** Rejected records with the reason; they go to the dead-letters topic. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("join-dead-letters", AvroTypeInfo.forRecord(DeadLetter.class));
    /** Clicks that came after the attribution window of their impression. */
    public static final OutputTag<AdClick> LATE_CLICKS =
            new OutputTag<>("late-clicks", AvroTypeInfo.forRecord(AdClick.class));
    /** Clicks whose impression never came. */
    public static final OutputTag<AdClick> ORPHAN_CLICKS =
            new OutputTag<>("orphan-clicks", AvroTypeInfo.forRecord(AdClick.class));
    /** Second and later clicks on an impression already clicked. */
    public static final OutputTag<AdClick> DUPLICATE_CLICKS =
            new OutputTag<>("duplicate-clicks", AvroTypeInfo.forRecord(AdClick.class));

    private JoinOutputs() {}

    static DeadLetter deadLetter(EventTopic source, String stage, String reason, String key, byte[] value,
            Long eventTimeMs, long nowMs) {
        return DeadLetters.ofEvent(source.defaultName(), stage, reason,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), value,
                eventTimeMs == null ? 0L : eventTimeMs, nowMs);
    }
}
