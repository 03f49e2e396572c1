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
 * position, and fatigue from the user's recent unclicked exposures of the same ad or category
 * (the TEM4CTR signal).
 */
final class SyntheticWorld {

    static final int SEGMENTS = 8;
    static final int CATEGORIES = 12;
    static final int TASTE_DIM = 4;
    static final long FATIGUE_HORIZON_MS = 60 * 60_000L;
    private static final int HISTORY_LIMIT = 60;

    record Ad(String adId, String campaignId, String advertiserId, int category, double quality, long baseBidMicros) {
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

    record Exposure(String adId, int category, long timeMs, boolean clicked) {}

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
                int adsInCampaign = 2 + rng.nextInt(4);
                for (int k = 0; k < adsInCampaign; k++) {
                    ads.add(new Ad(String.format("ad-%05d", adCounter++), campaignId, advertiserId, category,
                            0.4 * rng.nextGaussian(), baseBid));
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
                clickedCategory |= e.category() == ad.category();
            } else if (e.adId().equals(ad.adId())) {
                unclickedSameAd++;
            } else if (e.category() == ad.category()) {
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
                + (clickedCategory ? 0.5 : 0);
        return 1 / (1 + Math.exp(-logit));
    }

    void recordExposure(User user, Ad ad, long timeMs, boolean clicked) {
        user.history.addLast(new Exposure(ad.adId(), ad.category(), timeMs, clicked));
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
