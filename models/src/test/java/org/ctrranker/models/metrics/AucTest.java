package org.ctrranker.models.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AucTest {

    @Test
    void perfectAndReversedRankings() {
        int[] labels = {0, 0, 1, 1};
        assertThat(Auc.of(new double[] {0.1, 0.2, 0.8, 0.9}, labels)).isEqualTo(1.0);
        assertThat(Auc.of(new double[] {0.9, 0.8, 0.2, 0.1}, labels)).isEqualTo(0.0);
    }

    @Test
    void tiesCountHalf() {
        assertThat(Auc.of(new double[] {0.5, 0.5, 0.5, 0.5}, new int[] {0, 1, 0, 1})).isEqualTo(0.5);
        // one positive ties with one of two negatives and beats the other: (1 + 0.5) / 2
        assertThat(Auc.of(new double[] {0.3, 0.5, 0.5}, new int[] {0, 0, 1})).isEqualTo(0.75);
    }

    @Test
    void equalsPairCountingOnRandomData() {
        Random random = new Random(7);
        int n = 500;
        double[] scores = new double[n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            scores[i] = Math.round(random.nextDouble() * 20) / 20.0;
            labels[i] = random.nextDouble() < scores[i] ? 1 : 0;
        }
        double wins = 0;
        long pairs = 0;
        for (int p = 0; p < n; p++) {
            for (int q = 0; q < n; q++) {
                if (labels[p] == 1 && labels[q] == 0) {
                    pairs++;
                    wins += scores[p] > scores[q] ? 1 : scores[p] == scores[q] ? 0.5 : 0;
                }
            }
        }
        assertThat(Auc.of(scores, labels)).isCloseTo(wins / pairs, within(1e-12));
    }

    @Test
    void singleClassIsUndefined() {
        assertThat(Auc.of(new double[] {0.1, 0.2}, new int[] {1, 1})).isNaN();
    }

    @Test
    void logLossOfKnownValues() {
        assertThat(LogLoss.of(new double[] {0.5, 0.5}, new int[] {0, 1})).isCloseTo(Math.log(2), within(1e-12));
        assertThat(LogLoss.of(new double[] {1.0}, new int[] {0})).isFinite();
    }
}
