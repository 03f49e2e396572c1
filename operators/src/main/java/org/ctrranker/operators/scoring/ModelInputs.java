package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.Scenario;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.operators.features.FeedbackConfig;
import org.ctrranker.models.Features;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.Sample;
import org.ctrranker.models.UserHistory;

/**
 * The one mapping from events to model inputs, used by the scorer (auction candidates) and the
 * trainer (labelled samples) alike, so serving and training can never see different features.
 *
 * <p>Sparse fields, in this order (the ad id is the target field, in the item namespace the TEM4CTR
 * histories use): user, ad, campaign, advertiser, category, page, slot, device type, region, hour of
 * day, weekday, the user's tags (sorted, as one key). Dense features, as evaluate's {@code OnlineFeaturizer}
 * computes them (its features 2 to 4, 8, 10, 0 and 1): the user's fatigue from the feedback snapshot (of the user's
 * last N exposures in the hour before the request: those not clicked by then of this ad and of other ads of its
 * category, and whether the user clicked an ad of its category), the request's size (its number of candidates),
 * and the log of the user's clicks known at the request (the snapshot's click count; evaluate's feature 10 counts
 * MIND's clicks from before the log, which the MIND replay writes as the user's first clicks), and the ad's own
 * record from its {@link ItemCounts} as of the scorer's point in time (its smoothed CTR as a log-ratio to
 * {@link #ITEM_PRIOR_CTR}, and the log of its impressions). Everything is known at request time; nothing posterior
 * (position, market price, bid) is a model input. The position is the served slot in training and
 * {@link #SERVING_POSITION} in serving: the position bias is additive, so scoring every candidate for one position
 * leaves the ranking unchanged.
 */
public final class ModelInputs {

    public static final int SPARSE_FIELDS = 12;
    public static final int DENSE_FEATURES = 7;
    /** Index of the first of the two item features (after the fatigue, the request's size and the click count). */
    public static final int ITEM_FEATURES = UserFatigue.FEATURES + 2;
    /**
     * The CTR an ad's count is smoothed towards and its CTR feature is a ratio to. Fixed rather than the traffic's
     * own (evaluate uses the log's CTR so far): the job counts per ad, on parallel subtasks, and a constant keeps
     * a sample's features a function of its ad alone; the model learns the offset.
     */
    public static final double ITEM_PRIOR_CTR = 0.04;
    /** Impressions' worth of {@link #ITEM_PRIOR_CTR} in the smoothed CTR, as in evaluate. */
    static final double ITEM_SMOOTHING = 20;
    /** Index of the ad id among the sparse fields (the TEM4CTR target). */
    public static final int TARGET_FIELD = 1;
    /** AM2 conditions on the slot and the won position. */
    public static final int SCENARIO_FIELDS = 2;
    /** Candidates are scored as if shown in the top slot (positions are 1-based; 0 means none). */
    public static final int SERVING_POSITION = 1;

    private ModelInputs() {}

    /** The model shape these inputs fit; the rest of the config (sizes, optimiser) is the caller's. */
    public static ModelConfig.Builder shape(ModelConfig.Builder builder) {
        return builder.sparseFields(SPARSE_FIELDS).denseFeatures(DENSE_FEATURES).targetField(TARGET_FIELD)
                .scenarioFields(SCENARIO_FIELDS);
    }

    /**
     * What the model sees of one candidate of an auction, given its user's fatigue at the request and the ad's
     * counts at the scorer's point in time (null: never counted).
     */
    public static Features candidate(AdAuction auction, Candidate candidate, UserFatigue fatigue, ItemCounts counts) {
        return new Features(ids(auction.getUserId(), candidate.getAdId(), candidate.getCampaignId(),
                candidate.getAdvertiserId(), candidate.getCategoryId(), auction.getScenario(), auction.getContext()),
                dense(fatigue, candidate.getAdId(), candidate.getCategoryId(), auction.getCandidates().size(), counts),
                SERVING_POSITION);
    }

    /** What the model sees of a labelled impression: the same fields as {@link #candidate}, at its position. */
    public static Features features(TrainingSample sample) {
        UserFatigue fatigue =
                UserFatigue.of(sample.getFeedback(), sample.getImpressionTimeMs(), sample.getAttributionWindowMs());
        return new Features(ids(sample.getUserId(), sample.getAdId(), sample.getCampaignId(),
                sample.getAdvertiserId(), sample.getCategoryId(), sample.getScenario(), sample.getContext()),
                dense(fatigue, sample.getAdId(), sample.getCategoryId(), sample.getCandidateCount(),
                        sample.getItemCounts()),
                sample.getPosition());
    }

    private static float[] dense(UserFatigue fatigue, String adId, String categoryId, int candidates,
            ItemCounts counts) {
        float[] dense = new float[DENSE_FEATURES];
        fatigue.fill(adId, categoryId, dense);
        // Candidates share about the same clicks per request (in MIND, about one per page view), so an ad's
        // chance falls with the request's size. Samples from before schema v3 say 0: taken as 1.
        dense[UserFatigue.FEATURES] = (float) Math.log(Math.max(1, candidates)) / 5f;
        // How much the user clicks at all (in MIND, the clicks before the log: worth 0.006 AUC to evaluate there).
        dense[UserFatigue.FEATURES + 1] = (float) Math.log1p(fatigue.clickCount) / 5f;
        // The ad's record (worth 0.0075 AUC to evaluate on MIND, where news items are new every day).
        long impressions = counts == null ? 0 : counts.getImpressions();
        long clicks = counts == null ? 0 : counts.getClicks();
        double smoothed = (clicks + ITEM_SMOOTHING * ITEM_PRIOR_CTR) / (impressions + ITEM_SMOOTHING);
        dense[ITEM_FEATURES] = (float) Math.max(-3, Math.min(3, Math.log(smoothed / ITEM_PRIOR_CTR))) / 3f;
        dense[ITEM_FEATURES + 1] = (float) Math.log1p(impressions) / 8f;
        return dense;
    }

    /**
     * A user's exposures of the hour before a request at {@code atMs}, taken from a feedback snapshot once per
     * request and shared by its candidates: of the snapshot's recent exposures (the user's last N of the hour),
     * those before the request, each unclicked unless its click came by then (an exposure whose window is still
     * open counts as not clicked, as it is at the request; a later snapshot's clicks after the request do not
     * count). A snapshot from before the recent exposures were kept (null) gives its unclicks (its recent list and
     * those aligned with its clicks, each exposure once) and clicks, under {@link #history}'s leakage guard.
     */
    public static final class UserFatigue {
        /** How many dense features {@link #fill} writes, from index 0 (the click count is written beside the request's size). */
        public static final int FEATURES = 3;
        private static final UserFatigue NONE = new UserFatigue(0);
        /** Unclicked exposures by ad, by category, and by ad and category: counted once, read per candidate. */
        private final Map<String, Integer> unclickedByAd = new HashMap<>();
        private final Map<String, Integer> unclickedByCategory = new HashMap<>();
        private final Map<List<String>, Integer> unclickedByAdAndCategory = new HashMap<>();
        private final Set<String> clickedCategories = new HashSet<>();
        /** All of the user's clicks known at the request, not only the hour's. */
        private final long clickCount;

        private UserFatigue(long clickCount) {
            this.clickCount = clickCount;
        }

        private void unclicked(String adId, String categoryId) {
            unclickedByAd.merge(adId, 1, Integer::sum);
            unclickedByCategory.merge(categoryId, 1, Integer::sum);
            unclickedByAdAndCategory.merge(List.of(adId, categoryId), 1, Integer::sum);
        }

        /** The fatigue of {@code snapshot}'s user (null: none) at {@code atMs}; {@code windowMs}: the attribution window. */
        public static UserFatigue of(UserFeedbackSnapshot snapshot, long atMs, long windowMs) {
            if (snapshot == null) {
                return NONE;
            }
            long knownBefore = snapshot.getAsOfMs() <= atMs ? Long.MAX_VALUE : atMs - windowMs;
            long clickCount = snapshot.getClickCount();
            for (AlignedClick aligned : snapshot.getClicks()) {
                if (aligned.getClick().getTimeMs() > knownBefore) {
                    clickCount--; // not yet known at the request: history() leaves it out too
                }
            }
            long from = atMs - FeedbackConfig.FATIGUE_HORIZON_MS;
            UserFatigue fatigue = new UserFatigue(Math.max(0, clickCount));
            if (snapshot.getRecentExposures() != null) {
                for (RecentExposure e : snapshot.getRecentExposures()) {
                    if (e.getTimeMs() >= atMs) {
                        continue; // not before the request (its own auction's exposures are at its time)
                    }
                    if (e.getTimeMs() < from) {
                        break;
                    }
                    Long click = e.getClickTimeMs();
                    if (click != null && click <= atMs) {
                        fatigue.clickedCategories.add(e.getCategoryId());
                    } else {
                        fatigue.unclicked(e.getAdId(), e.getCategoryId());
                    }
                }
                return fatigue;
            }
            Set<Exposure> unclicks = new HashSet<>();
            List<Exposure> clicks = new ArrayList<>();
            for (Exposure e : snapshot.getRecentUnclicks()) {
                keepIfIn(e, from, knownBefore, unclicks);
            }
            for (AlignedClick aligned : snapshot.getClicks()) {
                aligned.getBefore().forEach(e -> keepIfIn(e, from, knownBefore, unclicks));
                aligned.getAfter().forEach(e -> keepIfIn(e, from, knownBefore, unclicks));
                keepIfIn(aligned.getClick(), from, knownBefore, clicks);
            }
            unclicks.forEach(e -> fatigue.unclicked(e.getAdId(), e.getCategoryId()));
            clicks.forEach(e -> fatigue.clickedCategories.add(e.getCategoryId()));
            return fatigue;
        }

        private static void keepIfIn(Exposure e, long from, long knownBefore, Collection<Exposure> into) {
            if (e.getTimeMs() >= from && e.getTimeMs() <= knownBefore) {
                into.add(e);
            }
        }

        /**
         * Writes the ad's fatigue features into {@code dense[0..2]}, scaled as evaluate scales them: unclicked
         * exposures of the ad (capped at 4), of other ads of its category (capped at 6), and 1 if the user clicked
         * an ad of its category.
         */
        public void fill(String adId, String categoryId, float[] dense) {
            boolean hasCategory = categoryId != null && !categoryId.isEmpty();
            int sameAd = unclickedByAd.getOrDefault(adId, 0);
            int sameCategory = !hasCategory ? 0 : unclickedByCategory.getOrDefault(categoryId, 0)
                    - unclickedByAdAndCategory.getOrDefault(List.of(adId, categoryId), 0);
            dense[0] = Math.min(sameAd, 4) / 4f;
            dense[1] = Math.min(sameCategory, 6) / 6f;
            dense[2] = hasCategory && clickedCategories.contains(categoryId) ? 1f : 0f;
        }
    }

    /**
     * A labelled impression as a training sample: its features, its TEM4CTR history as of the impression,
     * and the posterior fields the loss uses (label, AIE's BCM weight, market price and scenario for AM2,
     * the fake-negative correction in that delayed-feedback mode).
     */
    public static Sample sample(TrainingSample sample) {
        UserFeedbackSnapshot feedback = sample.getFeedback();
        UserHistory history = feedback == null ? UserHistory.EMPTY
                : history(feedback, sample.getImpressionTimeMs(), sample.getAttributionWindowMs());
        long[] scenario = {
            FeatureHash.of("slot", sample.getScenario().getSlotId()),
            FeatureHash.of("position", Integer.toString(sample.getPosition())),
        };
        boolean fakeNegativeMode = sample.getSampleType() != SampleType.WINDOW_CLOSED;
        return new Sample(features(sample), history, sample.getLabel(), sample.getBidMicros() / 1e6,
                sample.getMarketPriceMicros() / 1e6, scenario, sample.getBcmWeight(), fakeNegativeMode);
    }

    /**
     * The TEM4CTR history of a feedback snapshot, for a request at {@code atMs}: each click's aligned
     * unclicks, those before it (the snapshot keeps them most recent first) in time order, then those
     * after it. Leakage guard: a snapshot taken at or before {@code atMs} is used whole (it holds nothing
     * later than its as-of time); from a later snapshot only what was certainly known at {@code atMs} is
     * kept: exposures whose attribution window {@code windowMs} had closed by then, which decides both a
     * click (it came inside the window) and an unclick.
     */
    public static UserHistory history(UserFeedbackSnapshot snapshot, long atMs, long windowMs) {
        long knownBefore = snapshot.getAsOfMs() <= atMs ? Long.MAX_VALUE : atMs - windowMs;
        List<long[]> slots = new ArrayList<>();
        List<Long> clicks = new ArrayList<>();
        for (AlignedClick aligned : snapshot.getClicks()) {
            if (aligned.getClick().getTimeMs() > knownBefore) {
                continue;
            }
            List<Exposure> before = aligned.getBefore();
            List<Exposure> after = aligned.getAfter();
            long[] keys = new long[before.size() + after.size()];
            int n = 0;
            for (int i = before.size() - 1; i >= 0; i--) {
                if (before.get(i).getTimeMs() <= knownBefore) {
                    keys[n++] = FeatureHash.item(before.get(i).getAdId());
                }
            }
            for (Exposure e : after) {
                if (e.getTimeMs() <= knownBefore) {
                    keys[n++] = FeatureHash.item(e.getAdId());
                }
            }
            clicks.add(FeatureHash.item(aligned.getClick().getAdId()));
            slots.add(n == keys.length ? keys : Arrays.copyOf(keys, n));
        }
        if (clicks.isEmpty()) {
            return UserHistory.EMPTY;
        }
        long[] clickKeys = new long[clicks.size()];
        for (int i = 0; i < clickKeys.length; i++) {
            clickKeys[i] = clicks.get(i);
        }
        return new UserHistory(clickKeys, slots.toArray(new long[0][]));
    }

    private static long[] ids(String userId, String adId, String campaignId, String advertiserId, String categoryId,
            Scenario scenario, RequestContext context) {
        return new long[] {
            FeatureHash.of("user", userId),
            FeatureHash.item(adId),
            FeatureHash.of("campaign", campaignId),
            FeatureHash.of("advertiser", advertiserId),
            FeatureHash.of("category", categoryId),
            FeatureHash.of("page", scenario.getPageId()),
            FeatureHash.of("slot", scenario.getSlotId()),
            FeatureHash.of("device", context.getDeviceType()),
            FeatureHash.of("region", context.getRegion()),
            FeatureHash.of("hour", Integer.toString(context.getHourOfDay())),
            FeatureHash.of("weekday", Integer.toString(context.getWeekday())),
            FeatureHash.of("tags", String.join(",", new TreeSet<>(context.getUserTags()))),
        };
    }
}
