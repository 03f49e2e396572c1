package org.ctrranker.models.eval;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.Features;
import org.ctrranker.models.Sample;
import org.ctrranker.models.UserHistory;

/**
 * Turns logged requests into model samples with features computed causally, as the streaming
 * feature stages would: every counter is read before the request's own outcomes are added.
 *
 * <p>Dense features (all request-time): the item's smoothed CTR so far (log-ratio to the global
 * CTR), its log impression count, the user's unclicked exposures of this item and of its category
 * in the last hour, whether the user clicked the category in the last hour, the user's log
 * impression count, the item's recent CTR (counters with a 30-minute half-life), its age since
 * first shown, the number of items the request shows (known when it is served: the auction's
 * candidates/winners), the item's share of the request's popularity (its smoothed CTR over the
 * mean smoothed CTR of the request's items: every candidate competes for about the same clicks per
 * request) and the user's log count of clicks from before the log (MIND's history column; left out where a
 * log has none). The TEM4CTR history is built per user as MODEL-NOTES 2.3 describes.
 */
public final class OnlineFeaturizer {

    /** Dense features where users come with clicks from before the log (MIND); one fewer otherwise. */
    public static final int DENSE = 11;
    /** Half-life of the item's recent-CTR counters: news and ads go stale within hours. */
    static final double HALF_LIFE_MS = 30 * 60_000.0;
    /** How far back the fatigue features look. */
    public static final long HORIZON_MS = 60 * 60_000L;
    private static final double SMOOTHING = 20;
    /**
     * The user's exposures the fatigue features count (those of the last hour, at most this many). A heavy user
     * sees hundreds an hour: with 60 the counts missed most of a synthetic user's fatigue (full model online 0.8677
     * there, 0.8831 with 300, as far back as the synthetic world remembers, 0.8720 with 1,000; MIND 0.7067 and
     * 0.7068 with 60 and 300).
     */
    public static final int RECENT_EXPOSURES = 300;

    private final int historyLength;
    private final int slotsPerClick;
    private final boolean dense;
    private final boolean priorClicks;
    private final Map<String, long[]> itemCounts = new HashMap<>();
    /** Per item: decayed impressions, decayed clicks, time of the last update, time first seen. */
    private final Map<String, double[]> itemRecent = new HashMap<>();
    private final Map<String, UserState> users = new HashMap<>();
    private long impressions;
    private long clicks;

    public OnlineFeaturizer(int historyLength, int slotsPerClick) {
        this(historyLength, slotsPerClick, true, true);
    }

    /**
     * @param dense false: ids and history only, no dense features (what the job's model sees until it
     *     keeps the per-item and per-user counters these need)
     * @param priorClicks false: the log has no clicks from before it, so no feature counts them (an input that is
     *     always 0 would only change the network's random start)
     */
    public OnlineFeaturizer(int historyLength, int slotsPerClick, boolean dense, boolean priorClicks) {
        this.historyLength = historyLength;
        this.slotsPerClick = slotsPerClick;
        this.dense = dense;
        this.priorClicks = priorClicks;
    }

    /** Dense features per sample. */
    public int denseFeatures() {
        return !dense ? 0 : priorClicks ? DENSE : DENSE - 1;
    }

    private record Exposure(String itemId, String category, long timeMs, boolean clicked) {}

    private final class UserState {
        final UserHistory.Builder history = new UserHistory.Builder(historyLength, slotsPerClick);
        final Deque<Exposure> recent = new ArrayDeque<>();
        long impressions;
        /** Clicks the log gives from before it starts (MIND's history column): how much the user reads. */
        int priorClicks;
    }

    /** Builds the request's samples from what was known before it, then records its outcomes. */
    public List<Sample> next(LoggedAuction auction) {
        UserState user = users.computeIfAbsent(auction.userId(), id -> {
            UserState s = new UserState();
            List<String> prior = auction.priorClicks();
            s.priorClicks = prior.size();
            for (int i = Math.max(0, prior.size() - historyLength); i < prior.size(); i++) {
                s.history.click(FeatureHash.item(prior.get(i)));
            }
            return s;
        });
        while (!user.recent.isEmpty() && auction.timeMs() - user.recent.peekFirst().timeMs() > HORIZON_MS) {
            user.recent.removeFirst();
        }
        UserHistory history = user.history.snapshot();
        long userKey = FeatureHash.of("user", auction.userId());
        double globalCtr = (clicks + 1.0) / (impressions + 25.0);
        List<Sample> out = new ArrayList<>(auction.items().size());
        double meanSmoothed = 0;
        for (LoggedAuction.LoggedItem item : auction.items()) {
            long[] counts = itemCounts.getOrDefault(item.itemId(), new long[2]);
            meanSmoothed += (counts[1] + SMOOTHING * globalCtr) / (counts[0] + SMOOTHING) / auction.items().size();
        }
        float requestSize = (float) Math.log(auction.items().size()) / 5f;
        for (LoggedAuction.LoggedItem item : auction.items()) {
            long[] ids = new long[2 + item.itemKeys().length + auction.contextKeys().length];
            ids[0] = userKey;
            ids[1] = FeatureHash.item(item.itemId());
            System.arraycopy(item.itemKeys(), 0, ids, 2, item.itemKeys().length);
            System.arraycopy(auction.contextKeys(), 0, ids, 2 + item.itemKeys().length, auction.contextKeys().length);
            long[] counts = itemCounts.getOrDefault(item.itemId(), new long[2]);
            double smoothed = (counts[1] + SMOOTHING * globalCtr) / (counts[0] + SMOOTHING);
            double[] recent = decayed(item.itemId(), auction.timeMs());
            double recentCtr = (recent[1] + SMOOTHING * globalCtr) / (recent[0] + SMOOTHING);
            double ageMinutes = recent[3] < 0 ? 0 : (auction.timeMs() - recent[3]) / 60_000.0;
            int sameItem = 0;
            int sameCategory = 0;
            boolean clickedCategory = false;
            for (Exposure e : user.recent) {
                boolean category = item.category() != null && item.category().equals(e.category());
                if (e.clicked()) {
                    clickedCategory |= category;
                } else if (e.itemId().equals(item.itemId())) {
                    sameItem++;
                } else if (category) {
                    sameCategory++;
                }
            }
            float[] dense = {
                (float) Math.max(-3, Math.min(3, Math.log(smoothed / globalCtr))) / 3f,
                (float) Math.log1p(counts[0]) / 8f,
                Math.min(sameItem, 4) / 4f,
                Math.min(sameCategory, 6) / 6f,
                clickedCategory ? 1f : 0f,
                (float) Math.log1p(user.impressions) / 8f,
                (float) Math.max(-3, Math.min(3, Math.log(recentCtr / globalCtr))) / 3f,
                (float) Math.log1p(ageMinutes) / 8f,
                requestSize,
                (float) Math.max(-3, Math.min(3, Math.log(smoothed / meanSmoothed))) / 3f,
                (float) Math.log1p(user.priorClicks) / 5f,
            };
            out.add(new Sample(new Features(ids, !this.dense ? null : priorClicks ? dense : Arrays.copyOf(dense, DENSE - 1), item.position()),
                    history, item.label(), item.bid(),
                    item.marketPrice(), item.scenario(), 1f, false));
        }
        for (LoggedAuction.LoggedItem item : auction.items()) {
            long[] counts = itemCounts.computeIfAbsent(item.itemId(), k -> new long[2]);
            counts[0]++;
            counts[1] += item.label();
            double[] recent = decayed(item.itemId(), auction.timeMs());
            recent[0] += 1;
            recent[1] += item.label();
            if (recent[3] < 0) {
                recent[3] = auction.timeMs();
            }
            impressions++;
            clicks += item.label();
            user.impressions++;
            user.recent.addLast(new Exposure(item.itemId(), item.category(), auction.timeMs(), item.label() != 0));
            if (user.recent.size() > RECENT_EXPOSURES) {
                user.recent.removeFirst();
            }
            long key = FeatureHash.item(item.itemId());
            if (item.label() != 0) {
                user.history.click(key);
            } else {
                user.history.unclick(key);
            }
        }
        return out;
    }

    /** The item's recent counters decayed to {@code timeMs} (created empty when new). */
    private double[] decayed(String itemId, long timeMs) {
        double[] r = itemRecent.computeIfAbsent(itemId, k -> new double[] {0, 0, timeMs, -1});
        if (timeMs > r[2]) {
            double factor = Math.pow(0.5, (timeMs - r[2]) / HALF_LIFE_MS);
            r[0] *= factor;
            r[1] *= factor;
            r[2] = timeMs;
        }
        return r;
    }

    /** Featurises a whole log in order. */
    public static EvalData build(String name, List<LoggedAuction> log, int historyLength, int slotsPerClick) {
        return build(name, log, historyLength, slotsPerClick, true);
    }

    /** As {@link #build(String, List, int, int)}; {@code dense = false} leaves the dense features out. */
    public static EvalData build(String name, List<LoggedAuction> log, int historyLength, int slotsPerClick,
            boolean dense) {
        OnlineFeaturizer featurizer = new OnlineFeaturizer(historyLength, slotsPerClick, dense,
                log.stream().anyMatch(auction -> !auction.priorClicks().isEmpty()));
        List<List<Sample>> groups = new ArrayList<>(log.size());
        List<Double> truth = new ArrayList<>();
        int testFrom = -1;
        int sparse = -1;
        int scenario = 1;
        for (int i = 0; i < log.size(); i++) {
            LoggedAuction auction = log.get(i);
            if (auction.items().isEmpty()) {
                continue;
            }
            if (auction.test() && testFrom < 0) {
                testFrom = groups.size();
            }
            List<Sample> samples = featurizer.next(auction);
            groups.add(samples);
            sparse = samples.get(0).features().ids().length;
            scenario = Math.max(scenario, samples.get(0).scenario().length);
            for (LoggedAuction.LoggedItem item : auction.items()) {
                truth.add(item.trueCtr());
            }
        }
        if (testFrom < 0) {
            throw new IllegalArgumentException("the test split is empty: check --split-at or --test");
        }
        if (testFrom == 0) {
            throw new IllegalArgumentException("the train split is empty: check --split-at or --train");
        }
        return new EvalData(name, groups, testFrom, sparse, featurizer.denseFeatures(), scenario,
                truth.stream().mapToDouble(Double::doubleValue).toArray());
    }
}
