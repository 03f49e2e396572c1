package org.ctrranker.jobs.generate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.models.metrics.Auc;
import org.ctrranker.schemas.EventTopic;

/** What a generator run produced, counted as it went; the reference later checks compare against. */
public final class GroundTruth {

    long auctions;
    long candidates;
    long auctionsWithoutImpression;
    long impressions;
    long clicks;
    long clickedImpressions;
    long duplicateClicks;
    long lateClicks;
    long orphanClicks;
    long firstEventTimeMs = Long.MAX_VALUE;
    long lastEventTimeMs = Long.MIN_VALUE;
    final Map<EventTopic, Long> malformed = new EnumMap<>(EventTopic.class);
    final Map<EventTopic, Long> records = new EnumMap<>(EventTopic.class);
    final List<ImpressionTruth> impressionTruths = new ArrayList<>();
    private final long seed;
    private final long attributionWindowMs;

    GroundTruth(long seed, long attributionWindowMs) {
        this.seed = seed;
        this.attributionWindowMs = attributionWindowMs;
        for (EventTopic topic : List.of(EventTopic.AD_AUCTIONS, EventTopic.AD_IMPRESSIONS, EventTopic.AD_CLICKS)) {
            malformed.put(topic, 0L);
            records.put(topic, 0L);
        }
    }

    void countRecord(GeneratedRecord record) {
        records.merge(record.topic(), 1L, Long::sum);
        if (record.malformed()) {
            malformed.merge(record.topic(), 1L, Long::sum);
        } else {
            firstEventTimeMs = Math.min(firstEventTimeMs, record.eventTimeMs());
            lastEventTimeMs = Math.max(lastEventTimeMs, record.eventTimeMs());
        }
    }

    public long auctions() { return auctions; }
    public long candidates() { return candidates; }
    public long impressions() { return impressions; }
    /** Distinct clicks on real impressions, late ones included; duplicates and orphans excluded. */
    public long clicks() { return clicks; }
    /** Impressions whose first click came within the attribution window: the positives. */
    public long clickedImpressions() { return clickedImpressions; }
    public long duplicateClicks() { return duplicateClicks; }
    /** Clicks on real impressions that came after the attribution window. */
    public long lateClicks() { return lateClicks; }
    public long orphanClicks() { return orphanClicks; }
    public long auctionsWithoutImpression() { return auctionsWithoutImpression; }
    public long attributionWindowMs() { return attributionWindowMs; }

    /** Records written to each input topic, malformed ones included. */
    public Map<EventTopic, Long> records() {
        return Collections.unmodifiableMap(records);
    }

    public Map<EventTopic, Long> malformed() {
        return Collections.unmodifiableMap(malformed);
    }

    public long malformedRecords() {
        return malformed.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Every impression with its true click probability and label, in generation order. */
    public List<ImpressionTruth> impressionTruths() {
        return Collections.unmodifiableList(impressionTruths);
    }

    /** The AUC the true click probabilities achieve on the produced labels: the ceiling for any model. */
    public double bayesOptimalAuc() {
        double[] scores = new double[impressionTruths.size()];
        int[] labels = new int[impressionTruths.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = impressionTruths.get(i).trueCtr();
            labels[i] = impressionTruths.get(i).clickedWithinWindow() ? 1 : 0;
        }
        return Auc.of(scores, labels);
    }

    public Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("seed", seed);
        map.put("auctions", auctions);
        map.put("candidates", candidates);
        map.put("auctions_without_impression", auctionsWithoutImpression);
        map.put("impressions", impressions);
        map.put("clicks", clicks);
        map.put("clicked_impressions", clickedImpressions);
        map.put("duplicate_clicks", duplicateClicks);
        map.put("late_clicks", lateClicks);
        map.put("orphan_clicks", orphanClicks);
        map.put("malformed_records", malformedRecords());
        map.put("malformed", byTopicName(malformed));
        map.put("records", byTopicName(records));
        map.put("attribution_window_ms", attributionWindowMs);
        map.put("ctr", impressions == 0 ? 0.0 : round((double) clickedImpressions / impressions));
        map.put("bayes_optimal_auc", round(bayesOptimalAuc()));
        map.put("first_event_time_ms", firstEventTimeMs == Long.MAX_VALUE ? null : firstEventTimeMs);
        map.put("last_event_time_ms", lastEventTimeMs == Long.MIN_VALUE ? null : lastEventTimeMs);
        return map;
    }

    /** One line of JSON: what {@code bin/ctr generate} prints last. */
    public String toJson() {
        try {
            return new ObjectMapper().writeValueAsString(asMap());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Long> byTopicName(Map<EventTopic, Long> counts) {
        Map<String, Long> named = new LinkedHashMap<>();
        counts.forEach((topic, count) -> named.put(topic.defaultName(), count));
        return named;
    }

    private static double round(double value) {
        return Double.isNaN(value) ? value : Math.round(value * 1e6) / 1e6;
    }
}
