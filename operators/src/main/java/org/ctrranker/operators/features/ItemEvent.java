package org.ctrranker.operators.features;

import java.util.Comparator;

/** An impression or a click waiting in the item statistics stage for its tick to close. A Flink POJO. */
public final class ItemEvent {

    /** Event-time order; an impression before a click of the same millisecond; then by impression id. */
    static final Comparator<ItemEvent> ORDER = Comparator.comparingLong((ItemEvent e) -> e.timeMs)
            .thenComparing(e -> e.click).thenComparing(e -> e.impressionId);

    public String impressionId;
    public long timeMs;
    public boolean click;

    public ItemEvent() {}

    ItemEvent(String impressionId, long timeMs, boolean click) {
        this.impressionId = impressionId;
        this.timeMs = timeMs;
        this.click = click;
    }
}
