package org.ctrranker.operators.joins;

import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.functions.MapFunction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.operators.ingest.DeadLetters;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/**
 * Keeps clicks that labelled nothing (late, orphan, duplicate) on the dead-letters topic, byte
 * for byte with the reason, so they can be audited or re-attributed later.
 */
public final class UnattributedClicks implements MapFunction<AdClick, DeadLetter> {

    private static final long serialVersionUID = 1L;

    private final String reason;
    private transient AvroCodec<AdClick> codec;

    public UnattributedClicks(String reason) {
        this.reason = reason;
    }

    @Override
    public DeadLetter map(AdClick click) {
        if (codec == null) {
            codec = AvroCodec.forTopic(EventTopic.AD_CLICKS, AdClick.class);
        }
        return DeadLetters.ofEvent(EventTopic.AD_CLICKS.defaultName(), "attribution", reason,
                click.getImpressionId().getBytes(StandardCharsets.UTF_8), codec.encode(click), click.getClickTimeMs(),
                System.currentTimeMillis());
    }
}
