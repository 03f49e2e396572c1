package org.ctrranker.models;

import java.util.Arrays;

/**
 * Which rows of an embedding table an Adam step has to touch to compute what a dense step computes, to within a
 * thousandth of the movement.
 *
 * <p>Why: a row without a gradient still moves under dense Adam, by its mean over the root of its variance, and
 * that step shrinks by about {@code beta1 / sqrt(beta2)} = 0.9005 per step; {@link #WINDOW} steps after its last
 * gradient it is below 1e-3 of its first, and what all later steps add up to is below 1e-3 of the total. So a row
 * is live for {@link #WINDOW} steps from its last gradient and frozen after, and a frozen row that gets a gradient
 * again first has its moments decayed by the steps it missed (exactly as the dense steps would have). A dense step
 * costs passes over the whole table and its two moments at every step; a batch of 256 looks up a few hundred rows
 * (MIND, the generator's users), so the live rows are a small part of the table.
 */
final class LiveRows {

    /** Steps a row stays live after its last gradient: 0.9005^66 < 1e-3. */
    static final int WINDOW = 66;
    /** Never had a gradient: its moments are zero, so it has nothing to decay. */
    private static final int NEVER = Integer.MIN_VALUE / 2;
    /** Ages saved in checkpoints are floats: exact to this, and a moment decayed this many steps is zero anyway. */
    private static final int OLDEST_AGE = 1 << 24;

    /** The step of each row's last gradient, or {@link #NEVER}. */
    private final int[] lastGradient;
    /** Scratch for {@link #next}: the steps each returning row missed. */
    private final int[] missed;

    LiveRows(int rows) {
        this.lastGradient = new int[rows];
        this.missed = new int[rows];
        Arrays.fill(lastGradient, NEVER);
    }

    int size() {
        return lastGradient.length;
    }

    /**
     * The rows step {@code step} updates, ascending, and the steps each of them missed (non-zero only for a frozen
     * row that has a gradient again).
     *
     * @param step the parameter's step count, one more than at the last call
     * @param gradientRows the rows with a gradient at this step, distinct
     */
    Step next(int step, long[] gradientRows) {
        boolean anyMissed = false;
        for (long row : gradientRows) {
            int r = (int) row;
            int last = lastGradient[r];
            // live through step last + WINDOW - 1, so its moments are current through that step
            int gap = last == NEVER ? 0 : step - last - WINDOW;
            if (gap > 0) {
                missed[r] = gap;
                anyMissed = true;
            }
            lastGradient[r] = step;
        }
        int live = 0;
        for (int last : lastGradient) {
            if (last > step - WINDOW) {
                live++;
            }
        }
        long[] rows = new long[live];
        int[] rowsMissed = anyMissed ? new int[live] : null;
        int at = 0;
        for (int r = 0; r < lastGradient.length; r++) {
            if (lastGradient[r] > step - WINDOW) {
                if (anyMissed) {
                    rowsMissed[at] = missed[r];
                    missed[r] = 0;
                }
                rows[at++] = r;
            }
        }
        return new Step(step, rows, rowsMissed);
    }

    /**
     * For a dense step instead of {@code rows}: per row of the table, the steps it missed (what its moments decay by
     * before the step; 0 for a live row that did not return and a row that never had a gradient).
     */
    int[] missedByEveryRow(Step rows) {
        int[] missedBy = new int[lastGradient.length];
        int live = 0;
        for (int r = 0; r < missedBy.length; r++) {
            if (live < rows.rows().length && rows.rows()[live] == r) {
                missedBy[r] = rows.missed() == null ? 0 : rows.missed()[live];
                live++;
            } else if (lastGradient[r] != NEVER) {
                missedBy[r] = rows.step() - lastGradient[r] - WINDOW;
            }
        }
        return missedBy;
    }

    /** Step {@code step} moved every row (a dense step): the frozen ones are now current through it and stay frozen. */
    void steppedAll(int step) {
        for (int r = 0; r < lastGradient.length; r++) {
            if (lastGradient[r] <= step - WINDOW) {
                lastGradient[r] = step + 1 - WINDOW;
            }
        }
    }

    /**
     * @param rows the rows to step, ascending
     * @param missed per row: the steps it missed while frozen (its moments decay by them first); null: none missed
     */
    record Step(int step, long[] rows, int[] missed) {}

    /** Per row, steps since its last gradient plus one as of {@code step}; 0 for a row that never had one. */
    float[] ages(int step) {
        float[] ages = new float[lastGradient.length];
        for (int r = 0; r < ages.length; r++) {
            int last = lastGradient[r];
            ages[r] = last == NEVER ? 0f : (float) Math.min(OLDEST_AGE, (long) step - last + 1);
        }
        return ages;
    }

    /** Replaces the state with what {@link #ages} gave at {@code step}. */
    void restore(int step, float[] ages) {
        for (int r = 0; r < ages.length; r++) {
            lastGradient[r] = ages[r] == 0f ? NEVER : step + 1 - (int) ages[r];
        }
    }

    /** Every row current through {@code step} and frozen: the state of a table a dense Adam stepped so far. */
    void restoreDense(int step) {
        Arrays.fill(lastGradient, step + 1 - WINDOW);
    }
}
