package org.ctrranker.jobs.replay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.schemas.EventTopic;

/** Events read from a real log, in event-time order, with what was counted on the way. */
public final class ReplayLog {

    private final List<GeneratedRecord> records;
    private final Map<String, Object> summary;

    ReplayLog(List<GeneratedRecord> unordered, Map<String, Object> counts) {
        List<GeneratedRecord> ordered = new ArrayList<>(unordered);
        // Stable: records with equal times keep the order they were read in (auction, impression, click).
        ordered.sort(Comparator.comparingLong(GeneratedRecord::eventTimeMs));
        this.records = List.copyOf(ordered);
        this.summary = new LinkedHashMap<>(counts);
        Map<String, Long> perTopic = new LinkedHashMap<>();
        for (EventTopic topic : List.of(EventTopic.AD_AUCTIONS, EventTopic.AD_IMPRESSIONS, EventTopic.AD_CLICKS)) {
            perTopic.put(topic.defaultName(), records.stream().filter(r -> r.topic() == topic).count());
        }
        summary.put("records", perTopic);
        if (!records.isEmpty()) {
            summary.put("first_event_time_ms", records.get(0).eventTimeMs());
            summary.put("last_event_time_ms", records.get(records.size() - 1).eventTimeMs());
        }
    }

    public List<GeneratedRecord> records() {
        return records;
    }

    public Map<String, Object> summary() {
        return java.util.Collections.unmodifiableMap(summary);
    }

    long count(EventTopic topic) {
        return records.stream().filter(r -> r.topic() == topic).count();
    }
}
