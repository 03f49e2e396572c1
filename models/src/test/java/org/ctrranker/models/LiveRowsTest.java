package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LiveRowsTest {

    private static final long[] NONE = {};

    @Test
    void aRowIsLiveForTheWindowAfterItsGradientAndThenMissesStepsUntilItReturns() {
        LiveRows live = new LiveRows(10);
        LiveRows.Step first = live.next(1, new long[] {3, 7});
        assertThat(first.rows()).containsExactly(3, 7);
        assertThat(first.missed()).isNull();
        for (int step = 2; step <= LiveRows.WINDOW; step++) {
            assertThat(live.next(step, step == 5 ? new long[] {7} : NONE).rows()).containsExactly(3, 7);
        }
        assertThat(live.next(LiveRows.WINDOW + 1, NONE).rows()).containsExactly(7);
        for (int step = LiveRows.WINDOW + 2; step < 100; step++) {
            live.next(step, NONE);
        }
        // row 3 was current through step WINDOW; it missed steps WINDOW + 1 to 99
        LiveRows.Step back = live.next(100, new long[] {3, 9});
        assertThat(back.rows()).containsExactly(3, 9);
        assertThat(back.missed()).containsExactly(99 - LiveRows.WINDOW, 0);
        assertThat(live.missedByEveryRow(back)).containsExactly(0, 0, 0, 99 - LiveRows.WINDOW, 0, 0, 0, 100 - 5 - LiveRows.WINDOW, 0, 0);
    }

    @Test
    void ageRestoresTheSameState() {
        Random random = new Random(3);
        LiveRows original = new LiveRows(50);
        for (int step = 1; step <= 300; step++) {
            original.next(step, gradientRows(random));
        }
        LiveRows restored = new LiveRows(50);
        restored.restore(300, original.ages(300));
        for (int step = 301; step <= 500; step++) {
            long[] rows = gradientRows(random);
            LiveRows.Step a = original.next(step, rows);
            LiveRows.Step b = restored.next(step, rows);
            assertThat(b.rows()).containsExactly(a.rows());
            assertThat(b.missed()).isEqualTo(a.missed());
        }
    }

    /** A table a dense Adam stepped through step 5: every row current through it, none live. */
    @Test
    void aDenseTableHasEveryRowCurrentAndNoneLive() {
        LiveRows live = new LiveRows(4);
        live.restoreDense(5);
        LiveRows.Step next = live.next(6, new long[] {2});
        assertThat(next.rows()).containsExactly(2);
        assertThat(next.missed()).isNull();
        assertThat(live.missedByEveryRow(next)).containsOnly(0);
        LiveRows.Step later = live.next(16, new long[] {1});
        assertThat(later.missed()).containsExactly(10, 0);
    }

    /** Rows 0-4 often, the rest rarely: some freeze and come back. */
    private static long[] gradientRows(Random random) {
        return random.ints(0, 50).limit(50).filter(r -> random.nextDouble() < (r < 5 ? 0.5 : 0.01)).distinct().sorted()
                .asLongStream().toArray();
    }
}
