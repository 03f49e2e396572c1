package org.ctrranker.jobs.generate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The hidden world behind the synthetic stream: users, ads, slots and the true click probability.
 *
 * <p>The true CTR is built to carry the signals the model is meant to find: user-segment x
 * category affinity (visible through user tags and the ad category), a personal taste (visible
 * through user id x category), ad quality (ad id), user commercial intent (user id; it also raises
 * every bid in the user's auctions, so the market price carries CTR information: the AIE signal),
 * position, fatigue from the user's recent unclicked exposures of the same ad or category, and a
 * short-term interest in look-alikes of the ads the user just clicked, qualified by the unclicked
 * exposures around each click (the TEM4CTR signal: see {@link #clickInterest}).
 */
final class SyntheticWorld {

    static final int SEGMENTS = 8;
    static final int CATEGORIES = 12;
    static final int TASTE_DIM = 4;
    static final long FATIGUE_HORIZON_MS = 60 * 60_000L;
    private static final int HISTORY_LIMIT = 300;
    /** Dimension of the hidden ad vectors behind the short-term interest; ads of a campaign are alike. */
    static final int AD_DIM = 4;
    /** The user's most recent clicks (within the fatigue horizon) that shape the interest: TEM4CTR's L. */
    static final int INTEREST_CLICKS = 30;
    /** Unclicked exposures aligned on each side of a click, as TEM4CTR aligns them (MODEL-NOTES 2.3). */
    static final int ALIGNED_PER_SIDE = 5;
    static final double INTEREST_WEIGHT = 1.5;
    static final double SKIPPED_WEIGHT = 0.75;

    record Ad(String adId, String campaignId, String advertiserId, int category, double quality, long baseBidMicros,
            double[] vector) {
        String categoryId() {
            return "cat-" + category;
        }
    }

    record Slot(String pageId, String slotId, int positions, long floorMicros, double baseLogit,
            int width, int height, String visibility, String format, String exchange) {}

    static final class User {
        final String userId;
        final int segment;
        final double intent;
        final double[] taste;
        final String device;
        final String region;
        final List<String> tags;
        final Deque<Exposure> history = new ArrayDeque<>();

        User(String userId, int segment, double intent, double[] taste, String device, String region, List<String> tags) {
            this.userId = userId;
            this.segment = segment;
            this.intent = intent;
            this.taste = taste;
            this.device = device;
            this.region = region;
            this.tags = tags;
        }
    }

    record Exposure(Ad ad, long timeMs, boolean clicked) {}

    final List<User> users = new ArrayList<>();
    final List<Ad> ads = new ArrayList<>();
    final List<Slot> slots = new ArrayList<>();
    private final double[][] segmentCategoryAffinity = new double[SEGMENTS][CATEGORIES];
    private final double[][] categoryVectors = new double[CATEGORIES][TASTE_DIM];
    private final double[] userCdf;

    SyntheticWorld(GeneratorConfig config, SplittableRandom rng) {
        for (int s = 0; s < SEGMENTS; s++) {
            for (int c = 0; c < CATEGORIES; c++) {
                segmentCategoryAffinity[s][c] = 0.7 * rng.nextGaussian();
            }
        }
        for (int c = 0; c < CATEGORIES; c++) {
            for (int d = 0; d < TASTE_DIM; d++) {
                categoryVectors[c][d] = rng.nextGaussian() / Math.sqrt(TASTE_DIM);
            }
        }
        String[] devices = {"desktop", "mobile", "tablet", "app"};
        for (int u = 0; u < config.users(); u++) {
            int segment = rng.nextInt(SEGMENTS);
            double[] taste = new double[TASTE_DIM];
            for (int d = 0; d < TASTE_DIM; d++) {
                taste[d] = rng.nextGaussian();
            }
            List<String> tags = new ArrayList<>(List.of("seg-" + segment));
            int noiseTags = rng.nextInt(3);
            for (int t = 0; t < noiseTags; t++) {
                tags.add("tag-" + rng.nextInt(50));
            }
            users.add(new User(String.format("u-%06d", u), segment, 0.5 * rng.nextGaussian(), taste,
                    devices[rng.nextInt(devices.length)], "r-" + rng.nextInt(30), List.copyOf(tags)));
        }
        userCdf = zipfCdf(config.users(), 1.05);
        int adCounter = 0;
        for (int a = 0; a < config.advertisers(); a++) {
            String advertiserId = String.format("adv-%03d", a);
            int campaigns = 1 + rng.nextInt(3);
            for (int c = 0; c < campaigns; c++) {
                String campaignId = advertiserId + "-c" + c;
                int category = rng.nextInt(CATEGORIES);
                long baseBid = Math.round(400_000 * Math.exp(0.5 * rng.nextGaussian()));
                double[] campaignVector = gaussian(rng, 1 / Math.sqrt(AD_DIM));
                int adsInCampaign = 2 + rng.nextInt(4);
                for (int k = 0; k < adsInCampaign; k++) {
                    double quality = 0.4 * rng.nextGaussian();
                    double[] vector = gaussian(rng, 0.3 / Math.sqrt(AD_DIM));
                    for (int d = 0; d < AD_DIM; d++) {
                        vector[d] += campaignVector[d];
                    }
                    ads.add(new Ad(String.format("ad-%05d", adCounter++), campaignId, advertiserId, category,
                            quality, baseBid, vector));
                }
            }
        }
        String[] visibility = {"FirstView", "SecondView", "OtherView"};
        String[] exchanges = {"x1", "x2", "x3"};
        for (int p = 0; p < 5; p++) {
            int slotsOnPage = 1 + rng.nextInt(3);
            for (int s = 0; s < slotsOnPage; s++) {
                slots.add(new Slot("page-" + p, "page-" + p + "-slot-" + s, 1 + rng.nextInt(3),
                        50_000L * (1 + rng.nextInt(4)), -3.1 + 0.3 * rng.nextGaussian(),
                        new int[] {300, 728, 160}[s % 3], new int[] {250, 90, 600}[s % 3],
                        visibility[s % visibility.length], "Fixed", exchanges[rng.nextInt(exchanges.length)]));
            }
        }
    }

    User drawUser(SplittableRandom rng) {
        int index = java.util.Arrays.binarySearch(userCdf, rng.nextDouble());
        return users.get(Math.min(users.size() - 1, index >= 0 ? index : -index - 1));
    }

    /** The advertiser's bid: campaign base, raised for high-intent users and better ads, with noise. */
    long bidMicros(Ad ad, User user, SplittableRandom rng) {
        double factor = Math.exp(0.6 * user.intent + 0.5 * ad.quality() + 0.25 * rng.nextGaussian());
        return Math.max(10_000L, Math.round(ad.baseBidMicros() * factor / 1000.0) * 1000);
    }

    /** The true click probability of showing {@code ad} to {@code user} at {@code position} now. */
    double trueCtr(User user, Ad ad, Slot slot, int position, long timeMs) {
        int unclickedSameAd = 0;
        int unclickedSameCategory = 0;
        boolean clickedCategory = false;
        for (Exposure e : user.history) {
            if (e.timeMs() > timeMs || timeMs - e.timeMs() > FATIGUE_HORIZON_MS) {
                continue;
            }
            if (e.clicked()) {
                clickedCategory |= e.ad().category() == ad.category();
            } else if (e.ad().adId().equals(ad.adId())) {
                unclickedSameAd++;
            } else if (e.ad().category() == ad.category()) {
                unclickedSameCategory++;
            }
        }
        double taste = 0;
        for (int d = 0; d < TASTE_DIM; d++) {
            taste += user.taste[d] * categoryVectors[ad.category()][d];
        }
        double logit = slot.baseLogit()
                + segmentCategoryAffinity[user.segment][ad.category()]
                + 0.5 * taste
                + ad.quality()
                + 0.5 * user.intent
                - 0.35 * (position - 1)
                - 0.6 * Math.min(unclickedSameAd, 4)
                - 0.2 * Math.min(unclickedSameCategory, 6)
                + (clickedCategory ? 0.5 : 0)
                + clickInterest(user, ad, timeMs);
        return 1 / (1 + Math.exp(-logit));
    }

    /**
     * The logit term of the user's interest in look-alikes of what they clicked, shaped as TEM4CTR models
     * it: each of the user's last {@value #INTEREST_CLICKS} clicks within the horizon is paired with the
     * mean vector {@code a} of its aligned unclicked exposures (up to {@value #ALIGNED_PER_SIDE} nearest on
     * each side, known by {@code timeMs}); the part of {@code a} parallel to the click is taken off it (a
     * click among skipped look-alikes says less), and the skipped exposures count against look-alikes of
     * theirs. The ad gains with its closest click and loses with its closest skipped set. Neither the ids'
     * embeddings nor the per-category counts hold this: it moves with every click and reaches ads through
     * hidden vectors that cross campaigns and categories, which only co-clicks reveal.
     */
    double clickInterest(User user, Ad ad, long timeMs) {
        List<Exposure> known = new ArrayList<>(user.history.size());
        for (Exposure e : user.history) {
            if (e.timeMs() <= timeMs) {
                known.add(e);
            }
        }
        // A user's impressions of one auction are recorded by position, not by time.
        known.sort(java.util.Comparator.comparingLong(Exposure::timeMs));
        double closestClick = 0;
        double closestSkipped = 0;
        int clicks = 0;
        for (int i = known.size() - 1; i >= 0 && clicks < INTEREST_CLICKS; i--) {
            Exposure click = known.get(i);
            if (!click.clicked() || timeMs - click.timeMs() > FATIGUE_HORIZON_MS) {
                continue;
            }
            clicks++;
            double[] aligned = new double[AD_DIM];
            int count = alignedUnclicks(known, i, -1, aligned) + alignedUnclicks(known, i, +1, aligned);
            double[] c = click.ad().vector();
            double parallel = 0;
            if (count > 0) {
                for (int d = 0; d < AD_DIM; d++) {
                    aligned[d] /= count;
                }
                parallel = dot(aligned, c) / (dot(c, c) + 1e-12);
                closestSkipped = Math.max(closestSkipped, dot(aligned, ad.vector()));
            }
            closestClick = Math.max(closestClick, (1 - parallel) * dot(c, ad.vector()));
        }
        return INTEREST_WEIGHT * closestClick - SKIPPED_WEIGHT * closestSkipped;
    }

    /** Adds the vectors of up to {@value #ALIGNED_PER_SIDE} unclicked exposures beside {@code click}; returns how many. */
    private static int alignedUnclicks(List<Exposure> known, int click, int step, double[] sum) {
        int found = 0;
        for (int j = click + step; j >= 0 && j < known.size() && found < ALIGNED_PER_SIDE; j += step) {
            Exposure e = known.get(j);
            if (!e.clicked()) {
                for (int d = 0; d < AD_DIM; d++) {
                    sum[d] += e.ad().vector()[d];
                }
                found++;
            }
        }
        return found;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int d = 0; d < a.length; d++) {
            sum += a[d] * b[d];
        }
        return sum;
    }

    private static double[] gaussian(SplittableRandom rng, double scale) {
        double[] v = new double[AD_DIM];
        for (int d = 0; d < AD_DIM; d++) {
            v[d] = scale * rng.nextGaussian();
        }
        return v;
    }

    void recordExposure(User user, Ad ad, long timeMs, boolean clicked) {
        user.history.addLast(new Exposure(ad, timeMs, clicked));
        while (user.history.size() > HISTORY_LIMIT) {
            user.history.removeFirst();
        }
    }

    private static double[] zipfCdf(int n, double exponent) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1 / Math.pow(i + 1, exponent);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        return cdf;
    }
}
