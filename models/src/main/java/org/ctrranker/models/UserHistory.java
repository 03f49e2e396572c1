package org.ctrranker.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A user's TEM4CTR history at one point in time: item keys of the clicks, oldest first, and for
 * each click its time-aligned unclicked exposures (up to K/2 before it, then up to K/2 after it;
 * see MODEL-NOTES 2.3). The model keeps the latest L clicks and left-pads.
 *
 * <p>Candidates of one auction share one instance: the model computes the per-user part once per
 * distinct instance in a batch.
 */
public final class UserHistory {

    public static final UserHistory EMPTY = new UserHistory(new long[0], new long[0][]);

    private final long[] clicks;
    private final long[][] aligned;

    public UserHistory(long[] clicks, long[][] aligned) {
        if (clicks.length != aligned.length) {
            throw new IllegalArgumentException("one aligned-unclick list per click: " + clicks.length + " vs " + aligned.length);
        }
        this.clicks = clicks;
        this.aligned = aligned;
    }

    public int size() {
        return clicks.length;
    }

    public long click(int i) {
        return clicks[i];
    }

    public long[] aligned(int i) {
        return aligned[i];
    }

    /**
     * Builds histories causally from one user's stream of exposures, as the streaming state in
     * MODEL-NOTES 5 does: a click takes the last K/2 unclicks before it, and each later unclick is
     * appended to every kept click whose "after" half is not full yet.
     */
    public static final class Builder {
        private final int maxClicks;
        private final int half;
        private final List<long[]> before = new ArrayList<>();
        private final List<long[]> after = new ArrayList<>();
        private final List<int[]> afterCount = new ArrayList<>();
        private final List<Long> clickKeys = new ArrayList<>();
        private final long[] recentUnclicks;
        private int recentCount;
        private UserHistory cached;

        public Builder(int maxClicks, int slotsPerClick) {
            this.maxClicks = maxClicks;
            this.half = slotsPerClick / 2;
            this.recentUnclicks = new long[half];
        }

        public Builder click(long item) {
            long[] b = new long[Math.min(half, recentCount)];
            for (int i = 0; i < b.length; i++) {
                b[i] = recentUnclicks[(recentCount - b.length + i) % half];
            }
            clickKeys.add(item);
            before.add(b);
            after.add(new long[half]);
            afterCount.add(new int[1]);
            if (clickKeys.size() > maxClicks) {
                clickKeys.remove(0);
                before.remove(0);
                after.remove(0);
                afterCount.remove(0);
            }
            cached = null;
            return this;
        }

        public Builder unclick(long item) {
            recentUnclicks[recentCount % half] = item;
            recentCount++;
            for (int i = 0; i < clickKeys.size(); i++) {
                int[] count = afterCount.get(i);
                if (count[0] < half) {
                    after.get(i)[count[0]++] = item;
                }
            }
            cached = null;
            return this;
        }

        /** The history as of now; the same instance until the next click or unclick. */
        public UserHistory snapshot() {
            if (cached == null) {
                long[] keys = new long[clickKeys.size()];
                long[][] slots = new long[keys.length][];
                for (int i = 0; i < keys.length; i++) {
                    keys[i] = clickKeys.get(i);
                    long[] b = before.get(i);
                    long[] s = Arrays.copyOf(b, b.length + afterCount.get(i)[0]);
                    System.arraycopy(after.get(i), 0, s, b.length, afterCount.get(i)[0]);
                    slots[i] = s;
                }
                cached = new UserHistory(keys, slots);
            }
            return cached;
        }
    }
}
