package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The statistics' KLL sketches on the real iPinYou campaign 2259 logs (bidprice and payprice, columns
 * 23 and 24): for every rank 0.01..0.99 the sketch's quantile has a true rank within the sketch's
 * stated normalized rank error of the rank asked for. The two files go through two windows and the
 * same merge a sample's statistics use. Ties are many (few distinct bids), so the true rank of a value
 * is the interval [fraction below it, fraction at or below it].
 */
class SketchAccuracyOnIpinyouTest {

    @ParameterizedTest(name = "k = {0}")
    @ValueSource(ints = {200, 50})
    void quantilesOfBidsAndMarketPricesAreWithinTheStatedRankError(int k) throws IOException {
        List<long[]> train = read("ipinyou-2259/train.log.txt");
        List<long[]> test = read("ipinyou-2259/test.log.txt");
        AieConfig config = AieConfig.builder().sketchK(k).build();

        double worstBid = 0;
        double worstPrice = 0;
        double bound = 0;
        for (long seed = 1; seed <= 10; seed++) {
            ScenarioWindow first = window(0, train, k, seed);
            ScenarioWindow second = window(1, test, k, seed * 13);
            ScenarioWindow[] merged = new ScenarioWindow[1];
            SeededKll.run(seed, () -> merged[0] = first.mergedWith(second, k));
            ScenarioStatistics stats = new ScenarioStatistics(merged[0], 0, config);

            List<long[]> all = new ArrayList<>(train);
            all.addAll(test);
            long[] bids = all.stream().mapToLong(r -> r[0]).sorted().toArray();
            long[] prices = all.stream().mapToLong(r -> r[1]).sorted().toArray();
            assertThat(stats.count()).isEqualTo(all.size());
            bound = stats.normalizedRankError();
            worstBid = Math.max(worstBid, worstRankError(stats.bidSketch(), bids));
            worstPrice = Math.max(worstPrice, worstRankError(stats.marketPriceSketch(), prices));
            assertThat(stats.bidSketch().isEstimationMode()).as("sketch compacted, so the bound is being tested").isTrue();
        }
        System.out.printf("iPinYou 2259, n=%d, KLL k=%d: stated normalized rank error %.4f; worst over 99 ranks x 10 seeds:"
                + " bids %.4f, pay prices %.4f%n", train.size() + test.size(), k, bound, worstBid, worstPrice);
        assertThat(worstBid).isLessThanOrEqualTo(bound);
        assertThat(worstPrice).isLessThanOrEqualTo(bound);
    }

    private static ScenarioWindow window(long index, List<long[]> rows, int k, long seed) {
        ScenarioWindow w = new ScenarioWindow(index, k);
        // micros as the pipeline carries them: the log's CPM fen values scaled, order unchanged
        SeededKll.run(seed, () -> rows.forEach(r -> w.addAuction(r[0], r[1])));
        return w;
    }

    /** Largest distance between a requested rank and the true rank interval of the sketch's answer. */
    private static double worstRankError(KllDoublesSketch sketch, long[] sorted) {
        double worst = 0;
        for (int i = 1; i <= 99; i++) {
            double rank = i / 100.0;
            double q = sketch.getQuantile(rank, QuantileSearchCriteria.INCLUSIVE);
            double below = lowerBound(sorted, q) / (double) sorted.length;
            double atOrBelow = upperBound(sorted, q) / (double) sorted.length;
            double error = rank < below ? below - rank : rank > atOrBelow ? rank - atOrBelow : 0;
            worst = Math.max(worst, error);
        }
        return worst;
    }

    private static int lowerBound(long[] sorted, double v) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static int upperBound(long[] sorted, double v) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** (bid, pay price) per row, scaled from the log's unit to micros. */
    private static List<long[]> read(String relative) throws IOException {
        String root = System.getProperty("ctr.root", System.getProperty("user.dir"));
        Path path = Path.of(root).resolve("../shared/data").resolve(relative).normalize();
        assumeTrue(Files.isReadable(path), "shared data missing: " + path);
        List<long[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(path)) {
            String[] cols = line.split("\t");
            rows.add(new long[] {Long.parseLong(cols[22]) * 1_000L, Long.parseLong(cols[23]) * 1_000L});
        }
        return rows;
    }
}
