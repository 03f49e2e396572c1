package org.ctrranker.cli.demo;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ctrranker.operators.scoring.ServingReader;
import redis.clients.jedis.UnifiedJedis;

/**
 * What the demo prints every few seconds: throughput from the job's counters, the live model and
 * its online AUC from Redis (against the generator's Bayes-optimal AUC on the same labels), and a
 * few live rankings read back from Redis as an ad server would.
 */
final class DemoView {

    private static final int ADS_SHOWN = 3;
    /** An auction is looked up once it has had this long to be scored. */
    private static final long RANKING_MIN_AGE_MS = 1_500;

    private final PrintStream out;
    private final String keyPrefix;
    private final String modelName;
    private final BayesAucWindow bayes;
    private final int rankingsShown;
    private final long startNanos = System.nanoTime();
    private Map<String, Long> previous = Map.of();
    private long previousNanos = startNanos;

    // What the summary line reports.
    long modelVersion;
    double onlineAuc = Double.NaN;
    double bayesAuc = Double.NaN;
    long rankingsRead;
    long rankingTicks;

    DemoView(PrintStream out, String keyPrefix, String modelName, BayesAucWindow bayes, int rankingsShown) {
        this.out = out;
        this.keyPrefix = keyPrefix;
        this.modelName = modelName;
        this.bayes = bayes;
        this.rankingsShown = rankingsShown;
    }

    void show(Map<String, Long> counters, DemoFeed feed, UnifiedJedis redis) {
        long now = System.nanoTime();
        double dt = Math.max(1e-3, (now - previousNanos) / 1e9);
        out.printf("[%4ds] sent %,d auctions | scored %s auctions/s (%s candidates/s), %,d in all | labelled %s samples/s, %,d in all%n",
                Math.round((now - startNanos) / 1e9), feed.auctionsSent(),
                rate(counters, "scoredAuctions", dt), rate(counters, "scoredCandidates", dt),
                counters.getOrDefault("scoredAuctions", 0L),
                rate(counters, "labelled", dt), counters.getOrDefault("labelled", 0L));
        showModel(redis);
        showRankings(feed, redis);
        previous = counters;
        previousNanos = now;
    }

    private void showModel(UnifiedJedis redis) {
        Optional<ServingReader.ModelVersion> live = ServingReader.liveModel(redis, keyPrefix, modelName);
        if (live.isEmpty()) {
            out.println("       model: v0 (initial weights; the first version comes after enough labels) | online AUC n/a");
            return;
        }
        Map<String, String> model = live.get().fields();
        modelVersion = live.get().version();
        onlineAuc = parseDouble(model.get("progressive_auc"));
        long trainedUpTo = parseLong(model.get("newest_sample_time_ms"), Long.MAX_VALUE);
        long ageMs = System.currentTimeMillis()
                - parseLong(model.get("published_processing_time_ms"), System.currentTimeMillis());
        StringBuilder line = new StringBuilder(String.format("       model: v%d live (published %.1f s ago, %,d samples trained) | online AUC %s",
                modelVersion, ageMs / 1000.0, parseLong(model.get("samples_trained"), 0), auc(onlineAuc)));
        if (bayes != null) {
            bayesAuc = bayes.auc(trainedUpTo);
            line.append(" vs Bayes-optimal ").append(auc(bayesAuc)).append(" on the same labels");
        }
        out.println(line);
    }

    private void showRankings(DemoFeed feed, UnifiedJedis redis) {
        if (rankingsShown == 0) {
            return;
        }
        // Newest first; when the job lags behind the feed, older auctions are the ones already ranked.
        List<DemoFeed.SentAuction> auctions = feed.recentAuctions(Integer.MAX_VALUE, RANKING_MIN_AGE_MS);
        int shown = 0;
        for (DemoFeed.SentAuction auction : auctions) {
            if (shown == rankingsShown) {
                break;
            }
            Optional<ServingReader.Ranking> ranking = ServingReader.ranking(redis, keyPrefix, auction.auctionId());
            if (ranking.isPresent()) {
                shown++;
                rankingsRead++;
                out.println("       " + formatRanking(auction, ranking.get()));
            }
        }
        if (shown > 0) {
            rankingTicks++;
        } else if (!auctions.isEmpty()) {
            out.printf("       rankings: none of the last %d auctions sampled (%.1f s back) is ranked in Redis yet%n",
                    auctions.size(), (System.currentTimeMillis() - auctions.get(auctions.size() - 1).sentAtMs()) / 1000.0);
        }
    }

    private static String formatRanking(DemoFeed.SentAuction auction, ServingReader.Ranking ranking) {
        List<ServingReader.RankedAd> ads = ranking.ads();
        StringBuilder line = new StringBuilder(String.format("rank %s (v%d, scored %.1f s ago, %d ads):",
                auction.auctionId(), ranking.modelVersion(),
                (System.currentTimeMillis() - ranking.scoredAtMs()) / 1000.0, ads.size()));
        int shown = Math.min(ADS_SHOWN, ads.size());
        for (int i = 0; i < shown; i++) {
            ServingReader.RankedAd ad = ads.get(i);
            line.append(String.format(" %d. %s pCTR %.4f eCPM %,.0f", i + 1, ad.adId(), ad.pctr(), ad.ecpm()));
            line.append(i + 1 < shown ? " |" : "");
        }
        return line.toString();
    }

    Map<String, Object> summary(DemoFeed feed, Map<String, Long> counters, double seconds) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("seconds", Math.round(seconds));
        summary.put("auctions_sent", feed.auctionsSent());
        summary.put("scored_auctions", counters.getOrDefault("scoredAuctions", 0L));
        summary.put("labelled", counters.getOrDefault("labelled", 0L));
        summary.put("samples_trained", counters.getOrDefault("samplesTrained", 0L));
        summary.put("model_version", modelVersion);
        summary.put("online_auc", Double.isNaN(onlineAuc) ? null : round(onlineAuc));
        summary.put("bayes_optimal_auc", Double.isNaN(bayesAuc) ? null : round(bayesAuc));
        summary.put("rankings_read", rankingsRead);
        return summary;
    }

    private String rate(Map<String, Long> counters, String name, double seconds) {
        long delta = counters.getOrDefault(name, 0L) - previous.getOrDefault(name, 0L);
        return String.format("%,d", Math.max(0, Math.round(delta / seconds)));
    }

    private static String auc(double value) {
        return Double.isNaN(value) ? "n/a" : String.format("%.3f", value);
    }

    private static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }

    private static long parseLong(String s, long fallback) {
        try {
            return s == null ? fallback : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static double parseDouble(String s) {
        try {
            return s == null ? Double.NaN : Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }
}
