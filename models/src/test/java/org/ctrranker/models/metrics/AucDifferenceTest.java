package org.ctrranker.models.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AucDifferenceTest {

    @Test
    void estimateIsTheDifferenceOfExactAucsTiesIncluded() {
        Random random = new Random(3);
        int n = 2_000;
        double[] a = new double[n];
        double[] b = new double[n];
        int[] labels = new int[n];
        int[] clusters = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = Math.round(random.nextDouble() * 10) / 10.0; // many ties
            b[i] = random.nextGaussian();
            labels[i] = random.nextDouble() < a[i] * 0.3 ? 1 : 0;
            clusters[i] = i / 7 * 13; // sparse cluster ids
        }
        AucDifference.Interval d = AucDifference.of(a, b, labels, clusters, 200, 1);
        assertThat(d.estimate()).isCloseTo(Auc.of(a, labels) - Auc.of(b, labels), within(1e-12));
        assertThat(d.low()).isLessThanOrEqualTo(d.estimate());
        assertThat(d.high()).isGreaterThanOrEqualTo(d.estimate());
        assertThat(d.replicates()).isEqualTo(200);
    }

    @Test
    void aScorerAgainstItselfDiffersByExactlyZero() {
        Random random = new Random(5);
        double[] a = random.doubles(500).toArray();
        int[] labels = random.ints(500, 0, 2).toArray();
        int[] clusters = java.util.stream.IntStream.range(0, 500).map(i -> i / 4).toArray();
        AucDifference.Interval d = AucDifference.of(a, a.clone(), labels, clusters, 100, 2);
        assertThat(d.estimate()).isZero();
        assertThat(d.low()).isZero();
        assertThat(d.high()).isZero();
    }

    /**
     * Requests whose samples share their outcome: resampling requests must give a wider interval than
     * resampling samples as if independent, and only the wider one covers the population's difference
     * about 95% of the time.
     */
    @Test
    void resamplingRequestsCoversThePopulationDifferenceWhereSamplesAloneWouldNot() {
        double truth = population(new Random(11), 100_000);
        int trials = 100;
        int coveredByRequests = 0;
        int coveredBySamples = 0;
        double widthRequests = 0;
        double widthSamples = 0;
        Random random = new Random(12);
        for (int t = 0; t < trials; t++) {
            Data data = draw(random, 300);
            AucDifference.Interval byRequest = AucDifference.of(data.a, data.b, data.labels, data.clusters, 400, t);
            int[] each = java.util.stream.IntStream.range(0, data.labels.length).toArray();
            AucDifference.Interval bySample = AucDifference.of(data.a, data.b, data.labels, each, 400, t);
            coveredByRequests += byRequest.low() <= truth && truth <= byRequest.high() ? 1 : 0;
            coveredBySamples += bySample.low() <= truth && truth <= bySample.high() ? 1 : 0;
            widthRequests += byRequest.high() - byRequest.low();
            widthSamples += bySample.high() - bySample.low();
        }
        assertThat(coveredByRequests).isBetween(87, 100);
        assertThat(widthRequests).isGreaterThan(1.5 * widthSamples);
        assertThat(coveredBySamples).isLessThan(coveredByRequests);
    }

    @Test
    void oneClassIsRejected() {
        double[] s = {0.1, 0.2, 0.3};
        assertThatThrownBy(() -> AucDifference.of(s, s, new int[] {0, 0, 0}, new int[] {0, 1, 2}, 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clicked and unclicked");
    }

    private record Data(double[] a, double[] b, int[] labels, int[] clusters) {}

    private static final int PER_REQUEST = 8;

    /**
     * Requests of 8 samples sharing one outcome and one request effect; scorer a sees the effect with a
     * little noise per sample, b also with an error shared by the request's samples (as a model that
     * misjudges a user errs on all of the user's candidates), so the samples of a request are not
     * independent evidence of the difference.
     */
    private static Data draw(Random random, int requests) {
        int n = requests * PER_REQUEST;
        double[] a = new double[n];
        double[] b = new double[n];
        int[] labels = new int[n];
        int[] clusters = new int[n];
        for (int r = 0; r < requests; r++) {
            double effect = random.nextGaussian();
            int label = random.nextDouble() < 1 / (1 + Math.exp(-(effect * 2 - 2))) ? 1 : 0;
            double shared = random.nextGaussian();
            for (int j = 0; j < PER_REQUEST; j++) {
                int i = r * PER_REQUEST + j;
                a[i] = effect + 0.3 * random.nextGaussian();
                b[i] = effect + shared + 0.3 * random.nextGaussian();
                labels[i] = label;
                clusters[i] = r;
            }
        }
        return new Data(a, b, labels, clusters);
    }

    private static double population(Random random, int requests) {
        Data d = draw(random, requests);
        return Auc.of(d.a, d.labels) - Auc.of(d.b, d.labels);
    }
}
