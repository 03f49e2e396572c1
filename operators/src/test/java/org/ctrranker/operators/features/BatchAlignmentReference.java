package org.ctrranker.operators.features;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;

/**
 * Batch TEM4CTR alignment from a user's full event log, written to follow MODEL-NOTES.md 2.3 step by
 * step (the authors' preprocessing), independent of the streaming state: no pruning, no timers, no
 * arrival order. It is the oracle of the property test. (The models module is getting a batch alignment
 * for offline training; the two should become one once it lands.)
 *
 * <p>Labels are those known at the snapshot time t, as the issue defines them: an exposure is a click
 * once a click on it inside its window [e, e + W] has happened by t, an unclick once its window
 * closed (e + W <= t) without one; otherwise it is not yet in the log.
 */
final class BatchAlignmentReference {

    private BatchAlignmentReference() {}

    private record Item(String impressionId, String adId, String categoryId, long timeMs, boolean clicked) {}

    static UserFeedbackSnapshot snapshot(List<TrainingSample> impressions, List<AdClick> clicks, long t,
            String targetImpressionId, int maxClicks, int perSide, long windowMs) {
        return snapshot(impressions, clicks, t, targetImpressionId, maxClicks, perSide, windowMs, Integer.MAX_VALUE);
    }

    /** The same with the cap on open exposures: see {@link #evictedByTheCap}. */
    static UserFeedbackSnapshot snapshot(List<TrainingSample> impressions, List<AdClick> clicks, long t,
            String targetImpressionId, int maxClicks, int perSide, long windowMs, int maxOpen) {
        return snapshot(impressions, clicks, t, targetImpressionId, maxClicks, perSide, windowMs, maxOpen,
                FeedbackConfig.defaults().fatigueExposures());
    }

    /** The same with N, the exposures of the hour the fatigue features count. */
    static UserFeedbackSnapshot snapshot(List<TrainingSample> impressions, List<AdClick> clicks, long t,
            String targetImpressionId, int maxClicks, int perSide, long windowMs, int maxOpen, int fatigueExposures) {
        Set<String> evicted = evictedByTheCap(impressions, t, windowMs, maxOpen);
        // 1. The user's exposures with their labels as known at t.
        List<Item> log = new ArrayList<>();
        for (TrainingSample imp : impressions) {
            if (evicted.contains(imp.getImpressionId())) {
                continue;
            }
            long e = imp.getImpressionTimeMs();
            boolean clicked = false;
            for (AdClick c : clicks) {
                long ct = c.getClickTimeMs();
                if (c.getImpressionId().equals(imp.getImpressionId()) && ct <= t && ct >= e && ct <= e + windowMs) {
                    clicked = true;
                }
            }
            boolean unclicked = !clicked && e + windowMs <= t;
            if (clicked || unclicked) {
                log.add(new Item(imp.getImpressionId(), imp.getAdId(), imp.getCategoryId(), e, clicked));
            }
        }
        // 2. Sort all exposures, clicked and unclicked, by time (ties by impression id).
        log.sort(Comparator.comparingLong(Item::timeMs).thenComparing(Item::impressionId));

        // 3. For every click at position i: the R nearest unclicks walking backwards and forwards,
        //    skipping clicks (so scans pass over other clicks and an unclick can serve two clicks).
        List<Integer> clickPositions = new ArrayList<>();
        List<List<Item>> before = new ArrayList<>();
        List<List<Item>> after = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            if (!log.get(i).clicked()) {
                continue;
            }
            List<Item> b = new ArrayList<>();
            for (int j = i - 1; j >= 0; j--) {
                if (!log.get(j).clicked() && b.size() < perSide) {
                    b.add(log.get(j));
                }
            }
            List<Item> a = new ArrayList<>();
            for (int j = i + 1; j < log.size(); j++) {
                if (!log.get(j).clicked() && a.size() < perSide) {
                    a.add(log.get(j));
                }
            }
            clickPositions.add(i);
            before.add(b);
            after.add(a);
        }

        // 4. Leakage guard for a sample at t: blank anything later than t and the target impression.
        List<AlignedClick> history = new ArrayList<>();
        for (int k = 0; k < clickPositions.size(); k++) {
            Item click = log.get(clickPositions.get(k));
            if (click.timeMs() > t || click.impressionId().equals(targetImpressionId)) {
                continue;
            }
            history.add(new AlignedClick(exposure(click), guard(before.get(k), t, targetImpressionId),
                    guard(after.get(k), t, targetImpressionId)));
        }
        // 5. The most recent L clicks, oldest first.
        List<AlignedClick> lastL = new ArrayList<>(history.subList(Math.max(0, history.size() - maxClicks), history.size()));

        List<Exposure> recent = new ArrayList<>();
        for (int j = log.size() - 1; j >= 0 && recent.size() < perSide; j--) {
            Item it = log.get(j);
            if (!it.clicked() && it.timeMs() <= t && !it.impressionId().equals(targetImpressionId)) {
                recent.add(exposure(it));
            }
        }
        // 6. The exposures the fatigue features count: the last N kept (not evicted) ones up to t but the target,
        //    labelled or not, within the hour before the newest of them, newest first, each with its click if one
        //    came by t.
        List<TrainingSample> upToT = new ArrayList<>();
        for (TrainingSample imp : impressions) {
            if (!evicted.contains(imp.getImpressionId()) && !imp.getImpressionId().equals(targetImpressionId)
                    && imp.getImpressionTimeMs() <= t) {
                upToT.add(imp);
            }
        }
        long newest = upToT.stream().mapToLong(TrainingSample::getImpressionTimeMs).max().orElse(0);
        List<TrainingSample> hour = new ArrayList<>(upToT.stream()
                .filter(imp -> imp.getImpressionTimeMs() >= newest - FeedbackConfig.FATIGUE_HORIZON_MS).toList());
        hour.sort(Comparator.comparingLong(TrainingSample::getImpressionTimeMs)
                .thenComparing(TrainingSample::getImpressionId).reversed());
        List<RecentExposure> recentExposures = new ArrayList<>();
        for (TrainingSample imp : hour.subList(0, Math.min(fatigueExposures, hour.size()))) {
            long e = imp.getImpressionTimeMs();
            Long firstClick = null;
            for (AdClick c : clicks) {
                long ct = c.getClickTimeMs();
                if (c.getImpressionId().equals(imp.getImpressionId()) && ct <= t && ct >= e && ct <= e + windowMs
                        && (firstClick == null || ct < firstClick)) {
                    firstClick = ct;
                }
            }
            recentExposures.add(new RecentExposure(imp.getAdId(), imp.getCategoryId(), e, firstClick));
        }
        return new UserFeedbackSnapshot(t, lastL, recent, (long) history.size(), recentExposures);
    }

    /**
     * The exposures at or before t that the cap has dropped: taking the exposures in (time, impression id)
     * order, whenever one at x leaves more than maxOpen kept exposures open at x (x < e + W), the oldest
     * open ones go.
     */
    static Set<String> evictedByTheCap(List<TrainingSample> impressions, long t, long windowMs, int maxOpen) {
        List<TrainingSample> ordered = new ArrayList<>(impressions);
        ordered.sort(Comparator.comparingLong(TrainingSample::getImpressionTimeMs)
                .thenComparing(TrainingSample::getImpressionId));
        Set<String> evicted = new HashSet<>();
        List<TrainingSample> open = new ArrayList<>();
        for (TrainingSample x : ordered) {
            long now = x.getImpressionTimeMs();
            if (now > t) {
                break;
            }
            open.removeIf(e -> e.getImpressionTimeMs() + windowMs <= now);
            open.add(x);
            while (open.size() > maxOpen) {
                evicted.add(open.remove(0).getImpressionId());
            }
        }
        return evicted;
    }

    private static List<Exposure> guard(List<Item> items, long t, String target) {
        List<Exposure> kept = new ArrayList<>();
        for (Item it : items) {
            if (it.timeMs() <= t && !it.impressionId().equals(target)) {
                kept.add(exposure(it));
            }
        }
        return kept;
    }

    private static Exposure exposure(Item it) {
        return new Exposure(it.adId(), it.categoryId(), it.timeMs());
    }
}
