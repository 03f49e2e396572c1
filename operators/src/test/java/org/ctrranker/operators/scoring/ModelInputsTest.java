package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AlignedClick;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.Exposure;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.Features;
import org.ctrranker.models.Sample;
import org.ctrranker.models.UserHistory;
import org.ctrranker.operators.features.FeedbackConfig;
import org.ctrranker.operators.joins.ImpressionSamples;
import org.junit.jupiter.api.Test;

class ModelInputsTest {

    private static final long T0 = 1_767_571_200_000L;
    private static final long W = 60_000L;

    private static final AdAuction AUCTION = new AdAuction("a1", T0, "u1",
            new Scenario("page-1", "slot-1", "ex", 300, 250, null, null),
            new RequestContext("mobile", null, "region-9", null, 10, 3, List.of("seg-b", "seg-a")), Pricing.CPC, 50_000L,
            List.of(new Candidate("ad-1", "c1", "adv1", "cat-1", 900_000L),
                    new Candidate("ad-2", "c2", "adv2", "cat-2", 600_000L)),
            List.of(new AuctionWinner("ad-2", 2, 400_000L)), false);

    @Test
    void aServedCandidateAndItsLabelledImpressionHaveTheSameFeaturesButThePosition() {
        TrainingSample labelled = ImpressionSamples.of(AUCTION, new AdImpression("i1", "a1", "u1", "ad-2", 2, T0 + 5), W);
        UserFeedbackSnapshot feedback = new UserFeedbackSnapshot(T0, List.of(),
                List.of(new Exposure("ad-2", "cat-2", T0 - 120_000), new Exposure("ad-9", "cat-2", T0 - 130_000)), 0L, null);
        labelled.setFeedback(feedback);
        ItemCounts counts = new ItemCounts(T0 - 20_000, 30L, 3L);
        labelled.setItemCounts(counts);
        ModelInputs.UserFatigue fatigue = ModelInputs.UserFatigue.of(feedback, T0, W);
        Features served = ModelInputs.candidate(AUCTION, AUCTION.getCandidates().get(1), fatigue, counts);
        Features trained = ModelInputs.features(labelled);

        assertThat(served.ids()).hasSize(ModelInputs.SPARSE_FIELDS).containsExactly(trained.ids());
        assertThat(served.ids()[ModelInputs.TARGET_FIELD]).isEqualTo(FeatureHash.item("ad-2"));
        assertThat(served.dense()).hasSize(ModelInputs.DENSE_FEATURES).containsExactly(trained.dense())
                .containsExactly(0.25f, 1f / 6, 0f, (float) Math.log(2) / 5f, 0f,
                        (float) Math.log((3 + 20 * 0.04) / 50 / 0.04) / 3f, (float) Math.log1p(30) / 8f);
        assertThat(served.position()).isEqualTo(ModelInputs.SERVING_POSITION);
        assertThat(trained.position()).isEqualTo(2);
        assertThat(ModelInputs.candidate(AUCTION, AUCTION.getCandidates().get(0), fatigue, counts).ids())
                .as("another ad differs").isNotEqualTo(served.ids());
    }

    @Test
    void anAdsRecordIsItsSmoothedCtrAgainstThePriorAndItsImpressions() {
        int ctr = ModelInputs.ITEM_FEATURES;
        ModelInputs.UserFatigue none = ModelInputs.UserFatigue.of(null, T0, W);
        Candidate ad = AUCTION.getCandidates().get(0);
        assertThat(ModelInputs.candidate(AUCTION, ad, none, null).dense()).as("never counted: the prior, no impressions")
                .endsWith(0f, 0f);
        float[] clicked = ModelInputs.candidate(AUCTION, ad, none, new ItemCounts(T0, 100L, 20L)).dense();
        float[] ignored = ModelInputs.candidate(AUCTION, ad, none, new ItemCounts(T0, 100L, 0L)).dense();
        assertThat(clicked[ctr]).isPositive();
        assertThat(ignored[ctr]).isNegative();
        assertThat(clicked[ctr + 1]).isEqualTo(ignored[ctr + 1]).isEqualTo((float) Math.log1p(100) / 8f);
        assertThat(ModelInputs.candidate(AUCTION, ad, none, new ItemCounts(T0, 1_000_000L, 1_000_000L)).dense()[ctr])
                .as("clipped").isEqualTo(1f);
    }

    @Test
    void theUsersClickCountIsWhatWasKnownAtTheRequestUnderTheHistorysLeakageGuard() {
        UserFeedbackSnapshot snapshot = snapshot(T0);
        int clicks = ModelInputs.UserFatigue.FEATURES + 1;
        assertThat(ModelInputs.candidate(AUCTION, AUCTION.getCandidates().get(0),
                ModelInputs.UserFatigue.of(snapshot, T0, W), null).dense()[clicks]).isEqualTo((float) Math.log1p(2) / 5f);
        // A request before the snapshot: clicked-2 was still in its window then, so only one click was known.
        long request = T0 - 100_000;
        assertThat(ModelInputs.history(snapshot, request, W).size()).isEqualTo(1);
        assertThat(ModelInputs.candidate(AUCTION, AUCTION.getCandidates().get(0),
                ModelInputs.UserFatigue.of(snapshot, request, W), null).dense()[clicks]).isEqualTo((float) Math.log1p(1) / 5f);
        assertThat(ModelInputs.candidate(AUCTION, AUCTION.getCandidates().get(0),
                ModelInputs.UserFatigue.of(null, T0, W), null).dense()[clicks]).as("no snapshot: no clicks").isZero();
    }

    @Test
    void aTrainingSampleCarriesItsLabelBcmWeightMarketPriceAndHistory() {
        TrainingSample labelled = ImpressionSamples.of(AUCTION, new AdImpression("i1", "a1", "u1", "ad-2", 2, T0 + 5), W);
        labelled.setLabel(1);
        labelled.setBcmWeight(1.7f);
        labelled.setFeedback(snapshot(T0));

        Sample sample = ModelInputs.sample(labelled);

        assertThat(sample.label()).isEqualTo(1);
        assertThat(sample.weight()).isEqualTo(1.7f);
        assertThat(sample.marketPrice()).isEqualTo(0.4);
        assertThat(sample.bid()).isEqualTo(0.6);
        assertThat(sample.scenario()).hasSize(ModelInputs.SCENARIO_FIELDS);
        assertThat(sample.fakeNegativeCorrection()).isFalse();
        assertThat(sample.history().size()).isEqualTo(2);
        assertThat(sample.history().aligned(0)).containsExactly(
                FeatureHash.item("u-early"), FeatureHash.item("u-late"), FeatureHash.item("u-after"));
    }

    @Test
    void aSnapshotNoLaterThanTheRequestIsUsedWholeAndALaterOneOnlyForWhatWasSettledBeforeIt() {
        UserFeedbackSnapshot snapshot = snapshot(T0);

        UserHistory whole = ModelInputs.history(snapshot, T0, W);
        assertThat(whole.size()).isEqualTo(2);
        assertThat(whole.click(0)).isEqualTo(FeatureHash.item("clicked-1"));
        assertThat(whole.aligned(0)).as("before in time order, then after").containsExactly(
                FeatureHash.item("u-early"), FeatureHash.item("u-late"), FeatureHash.item("u-after"));

        // The request came before the snapshot: only exposures whose window had closed by the request count.
        long request = T0 - 100_000;
        UserHistory guarded = ModelInputs.history(snapshot, request, W);
        assertThat(guarded.size()).as("clicked-2 at T0-150000 was still in its window at the request").isEqualTo(1);
        assertThat(guarded.aligned(0)).containsExactly(FeatureHash.item("u-early"), FeatureHash.item("u-late"));

        assertThat(ModelInputs.history(snapshot, T0 - 10 * W, W).size()).isZero();
    }

    @Test
    void theRequestSizeIsTheLogOfTheCandidatesAndASampleWithoutACountIsTakenAsOne() {
        TrainingSample labelled = ImpressionSamples.of(AUCTION, new AdImpression("i1", "a1", "u1", "ad-2", 2, T0 + 5), W);
        assertThat(ModelInputs.features(labelled).dense()[ModelInputs.UserFatigue.FEATURES]).isEqualTo((float) Math.log(2) / 5f);
        labelled.setCandidateCount(0); // written before schema v3
        assertThat(ModelInputs.features(labelled).dense()[ModelInputs.UserFatigue.FEATURES]).isZero();
    }

    @Test
    void fatigueCountsTheRecentExposuresBeforeTheRequestEachAsClickedOrNotAtTheRequest() {
        long t = T0;
        long h = FeedbackConfig.FATIGUE_HORIZON_MS;
        UserFeedbackSnapshot snapshot = new UserFeedbackSnapshot(t, List.of(), List.of(), 0L, List.of(
                new RecentExposure("ad-1", "cat-1", t, null),
                new RecentExposure("ad-1", "cat-1", t - 1_000, null), // window open: not clicked at t
                new RecentExposure("ad-2", "cat-1", t - 2_000, t - 1_500),
                new RecentExposure("ad-1", "cat-1", t - 3_000, null),
                new RecentExposure("ad-3", "cat-1", t - 4_000, null),
                new RecentExposure("ad-1", "cat-1", t - h - 1, null)));

        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t, W), "ad-1", "cat-1"))
                .as("ad-1 at t - 1000 and t - 3000 (not the one at the request's time, nor the one over an hour "
                        + "before), ad-3 of the category unclicked, ad-2 clicked")
                .containsExactly(0.5f, 1f / 6, 1f);
        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t, W), "ad-9", "")).containsExactly(0f, 0f, 0f);
        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t - 1_600, W), "ad-1", "cat-1"))
                .as("a request before the snapshot: ad-1 at t - 1000 comes after it, ad-2's click too, and the "
                        + "ad-1 over an hour before t is within its hour")
                .containsExactly(0.5f, 2f / 6, 0f);
    }

    @Test
    void fatigueFromASnapshotWithoutRecentExposuresCountsItsUnclicksOnceEachAndCategoryClicks() {
        long t = T0;
        Exposure sameAd = new Exposure("ad-1", "cat-1", t - 600_000);
        UserFeedbackSnapshot snapshot = new UserFeedbackSnapshot(t,
                List.of(new AlignedClick(new Exposure("ad-7", "cat-1", t - 900_000),
                        List.of(sameAd, new Exposure("ad-1", "cat-1", t - FeedbackConfig.FATIGUE_HORIZON_MS - 1)),
                        List.of(new Exposure("ad-3", "cat-1", t - 800_000)))),
                // the recent list repeats an aligned unclick: counted once
                List.of(new Exposure("ad-1", "cat-1", t - 100_000), sameAd, new Exposure("ad-4", "cat-9", t - 50_000)), 1L, null);

        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t, W), "ad-1", "cat-1"))
                .as("2 unclicks of ad-1 in the hour (one older ignored), 1 of cat-1, a cat-1 click")
                .containsExactly(0.5f, 1f / 6, 1f);
        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t, W), "ad-5", "cat-9")).containsExactly(0f, 1f / 6, 0f);
        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t, W), "ad-5", "")).as("no category: no category counts")
                .containsExactly(0f, 0f, 0f);
        assertThat(fatigue(ModelInputs.UserFatigue.of(null, t, W), "ad-1", "cat-1")).containsExactly(0f, 0f, 0f);
        // A request before the snapshot sees only exposures whose window had closed by then.
        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t - 200_000, W), "ad-1", "cat-1"))
                .as("ad-1 at t-100000 not known yet; the one an hour before t is within this request's hour")
                .containsExactly(0.5f, 1f / 6, 1f);
        assertThat(fatigue(ModelInputs.UserFatigue.of(snapshot, t - 200_000, W), "ad-5", "cat-9")).as("ad-4 at t-50000 not known yet")
                .containsExactly(0f, 0f, 0f);
    }

    private static float[] fatigue(ModelInputs.UserFatigue fatigue, String adId, String categoryId) {
        float[] dense = new float[ModelInputs.UserFatigue.FEATURES];
        fatigue.fill(adId, categoryId, dense);
        return dense;
    }

    /** Two clicks; the first has two unclicks before it (most recent first, as the snapshot keeps them) and one after. */
    private static UserFeedbackSnapshot snapshot(long asOf) {
        AlignedClick first = new AlignedClick(exposure("clicked-1", asOf - 300_000),
                List.of(exposure("u-late", asOf - 320_000), exposure("u-early", asOf - 340_000)),
                List.of(exposure("u-after", asOf - 140_000)));
        AlignedClick second = new AlignedClick(exposure("clicked-2", asOf - 150_000), List.of(), List.of());
        return new UserFeedbackSnapshot(asOf, List.of(first, second), List.of(), 2L, null);
    }

    private static Exposure exposure(String adId, long timeMs) {
        return new Exposure(adId, "cat", timeMs);
    }
}
