package org.ctrranker.operators.features;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.UserFeedbackSnapshot;

/**
 * One user's exposures in event-time order, from which the TEM4CTR aligned snapshot at any time t is
 * derived (MODEL-NOTES.md 2.3). Pure Java, no Flink: {@link UserFeedbackFunction} keeps one per user in
 * keyed state through {@link FeedbackTimelineCodec}.
 *
 * <p>What is known at time t: an exposure at or before t is CLICKED if a click on it, inside its
 * attribution window W, happened at or before t; UNCLICKED once its window closed (time + W <= t) without
 * one; otherwise still open and not part of any sequence. A click counts for an exposure at time e when
 * e <= click time <= e + W, the rule the click attribution labels with (a click stamped before its
 * impression is a dead letter there, so it is no click here either). Exposures are ordered by (time, impression id).
 * Because every status is a function of event times only, a snapshot does not depend on the order in
 * which events arrived.
 *
 * <p>A snapshot also lists the exposures the fatigue features count: the last N up to t, clicked or not (open
 * ones count as not clicked, as they are at t), back to an hour ({@link FeedbackConfig#FATIGUE_HORIZON_MS})
 * before the newest of them; a reader takes those of the hour before its own time. The hour is counted from the
 * newest exposure, not from t, and those at t count against N too, so that a snapshot changes only at an event's
 * time: a timer that only some arrival orders set (an early click's) then never finds new content to mirror.
 *
 * <p>Bounded size: {@link #prune(long)} keeps, of the exposures whose status can no longer change, only
 * what a later snapshot can still show (the last L clicks, their R nearest unclicks on each side, the
 * last R unclicks, and the recent exposures' last N), plus every exposure whose window is still open, capped in
 * event time: when an exposure at x leaves more than maxOpen exposures open at x (x < e + W), the oldest of them
 * go. The cap is a function of the log only if exposures are added in (time, impression id) order, which
 * {@link UserFeedbackFunction} does by adding them when the watermark passes them.
 */
public final class FeedbackTimeline {

    static final long NO_CLICK = Long.MAX_VALUE;

    /** Outcome of {@link #addExposure}. */
    public enum ExposureResult { ADDED, DUPLICATE, TOO_LATE }

    /** Outcome of {@link #addClick}. */
    public enum ClickResult { APPLIED, DUPLICATE, OUTSIDE_WINDOW, UNMATCHED }

    /** One exposure. {@code impressionId} is null once its status is final and no click can match it. */
    static final class Entry {
        String impressionId;
        final String adId;
        final String categoryId;
        final long timeMs;
        long clickTimeMs;

        Entry(String impressionId, String adId, String categoryId, long timeMs, long clickTimeMs) {
            this.impressionId = impressionId;
            this.adId = adId;
            this.categoryId = categoryId;
            this.timeMs = timeMs;
            this.clickTimeMs = clickTimeMs;
        }

        boolean clickedBy(long t) {
            return clickTimeMs <= t;
        }
    }

    private final int maxClicks;
    private final int perSide;
    private final long windowMs;
    private final int maxOpen;
    private final int fatigueExposures;

    final List<Entry> entries = new ArrayList<>();
    /**
     * Clicks that came before their impression: impression id -> their distinct times. All are kept (not
     * just the earliest) because which ones count depends on the impression's time, still unknown.
     */
    final TreeMap<String, TreeSet<Long>> unmatchedClicks = new TreeMap<>();
    /** Clicks on exposures {@link #prune} dropped: the part of the user's click count the entries no longer hold. */
    long prunedClicks;
    /** Everything with time + W at or before this has been pruned to its final form. */
    long prunedHorizonMs = Long.MIN_VALUE;
    /** Latest event time seen for the user (drives idle expiry). */
    long lastEventTimeMs = Long.MIN_VALUE;
    /** Event time of the latest idle-expiry timer registered, MIN_VALUE when none. */
    long idleTimerMs = Long.MIN_VALUE;
    /** Hash of the last snapshot mirrored to Redis (as_of excluded), to skip unchanged rewrites. */
    long mirroredHash;
    /** Exposures evicted because the open-window cap was hit since this object was loaded (not persisted). */
    int evictedOpen;

    public FeedbackTimeline(FeedbackConfig config) {
        this(config.maxClicks(), config.unclicksPerSide(), config.attributionWindowMs(), config.maxOpenExposures(),
                config.fatigueExposures());
    }

    FeedbackTimeline(int maxClicks, int perSide, long windowMs, int maxOpen) {
        this(maxClicks, perSide, windowMs, maxOpen, FeedbackConfig.defaults().fatigueExposures());
    }

    FeedbackTimeline(int maxClicks, int perSide, long windowMs, int maxOpen, int fatigueExposures) {
        this.maxClicks = maxClicks;
        this.perSide = perSide;
        this.windowMs = windowMs;
        this.maxOpen = maxOpen;
        this.fatigueExposures = fatigueExposures;
    }

    /** Records an exposure; a click that came earlier for it is attached now. */
    public ExposureResult addExposure(String impressionId, String adId, String categoryId, long timeMs) {
        Objects.requireNonNull(impressionId);
        noteEvent(timeMs);
        if (timeMs + windowMs <= prunedHorizonMs) {
            // Its status would already be final but its neighbours may be pruned: too late to place.
            return ExposureResult.TOO_LATE;
        }
        for (Entry e : entries) {
            if (impressionId.equals(e.impressionId)) {
                return ExposureResult.DUPLICATE;
            }
        }
        long click = NO_CLICK;
        TreeSet<Long> early = unmatchedClicks.remove(impressionId);
        if (early != null) {
            Long first = early.ceiling(timeMs); // the earliest click at or after the impression
            if (first != null && first <= timeMs + windowMs) {
                click = first;
            }
        }
        Entry entry = new Entry(impressionId, adId, categoryId == null ? "" : categoryId, timeMs, click);
        int at = insertionPoint(timeMs, impressionId);
        entries.add(at, entry);
        evictOpenOverflow(timeMs);
        return ExposureResult.ADDED;
    }

    /** Records a click; idempotent (the earliest click inside the window wins). */
    public ClickResult addClick(String impressionId, long clickTimeMs) {
        noteEvent(clickTimeMs);
        for (Entry e : entries) {
            if (impressionId.equals(e.impressionId)) {
                if (clickTimeMs < e.timeMs || clickTimeMs > e.timeMs + windowMs) {
                    return ClickResult.OUTSIDE_WINDOW;
                }
                if (e.clickTimeMs != NO_CLICK) {
                    e.clickTimeMs = Math.min(e.clickTimeMs, clickTimeMs);
                    return ClickResult.DUPLICATE;
                }
                e.clickTimeMs = clickTimeMs;
                return ClickResult.APPLIED;
            }
        }
        unmatchedClicks.computeIfAbsent(impressionId, id -> new TreeSet<>()).add(clickTimeMs);
        return ClickResult.UNMATCHED;
    }

    /**
     * The aligned view as of time t: nothing later than t, and the exposure {@code excludeImpressionId}
     * (the sample's own impression; null for none) left out.
     */
    public UserFeedbackSnapshot snapshotAt(long t, String excludeImpressionId) {
        List<Entry> seq = new ArrayList<>();
        List<Boolean> clicked = new ArrayList<>();
        long clickCount = prunedClicks;
        for (Entry e : entries) {
            if (e.timeMs > t) {
                break;
            }
            if (excludeImpressionId != null && excludeImpressionId.equals(e.impressionId)) {
                continue;
            }
            if (e.clickedBy(t)) {
                seq.add(e);
                clicked.add(Boolean.TRUE);
                clickCount++;
            } else if (e.timeMs + windowMs <= t) {
                seq.add(e);
                clicked.add(Boolean.FALSE);
            }
        }
        List<Integer> clickPositions = new ArrayList<>();
        for (int i = 0; i < seq.size(); i++) {
            if (clicked.get(i)) {
                clickPositions.add(i);
            }
        }
        List<AlignedClick> aligned = new ArrayList<>();
        for (int pos : clickPositions.subList(Math.max(0, clickPositions.size() - maxClicks), clickPositions.size())) {
            List<Exposure> before = new ArrayList<>();
            for (int j = pos - 1; j >= 0 && before.size() < perSide; j--) {
                if (!clicked.get(j)) {
                    before.add(exposure(seq.get(j)));
                }
            }
            List<Exposure> after = new ArrayList<>();
            for (int j = pos + 1; j < seq.size() && after.size() < perSide; j++) {
                if (!clicked.get(j)) {
                    after.add(exposure(seq.get(j)));
                }
            }
            aligned.add(new AlignedClick(exposure(seq.get(pos)), before, after));
        }
        List<Exposure> recent = new ArrayList<>();
        for (int j = seq.size() - 1; j >= 0 && recent.size() < perSide; j--) {
            if (!clicked.get(j)) {
                recent.add(exposure(seq.get(j)));
            }
        }
        return new UserFeedbackSnapshot(t, aligned, recent, clickCount, recentExposures(t, excludeImpressionId));
    }

    /** The exposures up to t that the fatigue features count, most recent first (see the class note). */
    private List<RecentExposure> recentExposures(long t, String excludeImpressionId) {
        List<RecentExposure> recent = new ArrayList<>();
        long from = Long.MIN_VALUE;
        for (int i = entries.size() - 1; i >= 0 && recent.size() < fatigueExposures; i--) {
            Entry e = entries.get(i);
            if (e.timeMs > t || excludeImpressionId != null && excludeImpressionId.equals(e.impressionId)) {
                continue;
            }
            if (recent.isEmpty()) {
                from = e.timeMs - FeedbackConfig.FATIGUE_HORIZON_MS;
            } else if (e.timeMs < from) {
                break;
            }
            recent.add(new RecentExposure(e.adId, e.categoryId, e.timeMs, e.clickedBy(t) ? e.clickTimeMs : null));
        }
        return recent;
    }

    /**
     * Drops what no snapshot after {@code horizonMs} can show. Call only once every event with time at or
     * before the horizon has arrived (the watermark passed it). Returns the unmatched clicks expired.
     */
    public int prune(long horizonMs) {
        if (horizonMs <= prunedHorizonMs) {
            return 0;
        }
        int settled = 0;
        while (settled < entries.size() && entries.get(settled).timeMs + windowMs <= horizonMs) {
            settled++;
        }
        boolean[] keep = new boolean[settled];
        List<Integer> clicks = new ArrayList<>();
        for (int i = 0; i < settled; i++) {
            if (entries.get(i).clickTimeMs != NO_CLICK) {
                clicks.add(i);
            }
        }
        for (int pos : clicks.subList(Math.max(0, clicks.size() - maxClicks), clicks.size())) {
            keep[pos] = true;
            markUnclicks(keep, pos - 1, -1, settled);
            markUnclicks(keep, pos + 1, +1, settled);
        }
        markUnclicks(keep, settled - 1, -1, settled);
        // A later snapshot's hour starts at or after the newest settled exposure's hour.
        int recent = 0;
        for (int i = settled - 1; i >= 0 && recent < fatigueExposures
                && entries.get(i).timeMs >= entries.get(settled - 1).timeMs - FeedbackConfig.FATIGUE_HORIZON_MS; i--) {
            keep[i] = true;
            recent++;
        }
        List<Entry> kept = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (i < settled) {
                if (keep[i]) {
                    e.impressionId = null; // final: no click can match it any more
                    kept.add(e);
                } else if (e.clickTimeMs != NO_CLICK) {
                    prunedClicks++;
                }
            } else {
                kept.add(e);
            }
        }
        entries.clear();
        entries.addAll(kept);
        int expired = 0;
        for (Iterator<Map.Entry<String, TreeSet<Long>>> it = unmatchedClicks.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getValue().last() + windowMs <= horizonMs) {
                it.remove();
                expired++;
            }
        }
        prunedHorizonMs = horizonMs;
        return expired;
    }

    /**
     * The latest exposure or click time at or before {@code t} that this state holds (MIN_VALUE if none).
     * Pruning keeps the newest exposure; a click on a pruned one is at most W after a newer kept
     * exposure, so idleness (timeout > W) is judged to within W, and the same way in any arrival order.
     */
    public long newestEventAtOrBefore(long t) {
        long newest = Long.MIN_VALUE;
        for (Entry e : entries) {
            if (e.timeMs <= t) {
                newest = Math.max(newest, e.clickTimeMs <= t ? e.clickTimeMs : e.timeMs);
            }
        }
        for (TreeSet<Long> times : unmatchedClicks.values()) {
            Long c = times.floor(t);
            if (c != null) {
                newest = Math.max(newest, c);
            }
        }
        return newest;
    }

    /**
     * Forgets the user's history up to {@code t} (idle expiry), keeping clicks later than t that came
     * early, so that what happens after t does not depend on how far ahead of the watermark it arrived.
     */
    public void expireThrough(long t) {
        entries.removeIf(e -> e.timeMs <= t);
        prunedClicks = 0; // pruned entries are older than any kept one
        for (Iterator<TreeSet<Long>> it = unmatchedClicks.values().iterator(); it.hasNext(); ) {
            TreeSet<Long> times = it.next();
            times.headSet(t, true).clear();
            if (times.isEmpty()) {
                it.remove();
            }
        }
        mirroredHash = 0;
    }

    /** True when the state holds no exposure and no waiting click. */
    public boolean isEmpty() {
        return entries.isEmpty() && unmatchedClicks.isEmpty();
    }

    /** Number of exposures held (settled and open). */
    public int size() {
        return entries.size();
    }

    public long lastEventTimeMs() {
        return lastEventTimeMs;
    }

    private void markUnclicks(boolean[] keep, int from, int step, int settled) {
        int found = 0;
        for (int j = from; j >= 0 && j < settled && found < perSide; j += step) {
            if (entries.get(j).clickTimeMs == NO_CLICK) {
                keep[j] = true;
                found++;
            }
        }
    }

    /** Drops the oldest exposures still open at {@code atMs} while more than maxOpen are. */
    private void evictOpenOverflow(long atMs) {
        int firstOpen = 0;
        while (firstOpen < entries.size() && entries.get(firstOpen).timeMs + windowMs <= atMs) {
            firstOpen++;
        }
        int excess = entries.size() - firstOpen - maxOpen;
        if (excess > 0) {
            entries.subList(firstOpen, firstOpen + excess).clear();
            evictedOpen += excess;
        }
    }

    private int insertionPoint(long timeMs, String impressionId) {
        int lo = 0;
        int hi = entries.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            Entry m = entries.get(mid);
            int c = m.timeMs != timeMs ? Long.compare(m.timeMs, timeMs)
                    : (m.impressionId == null ? "" : m.impressionId).compareTo(impressionId);
            if (c <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    void noteEvent(long timeMs) {
        lastEventTimeMs = Math.max(lastEventTimeMs, timeMs);
    }

    private static Exposure exposure(Entry e) {
        return new Exposure(e.adId, e.categoryId, e.timeMs);
    }
}
