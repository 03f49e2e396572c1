package org.ctrranker.operators.joins;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.function.LongPredicate;
import java.util.function.Supplier;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.ctrranker.operators.serde.ByteDelta;
import org.ctrranker.operators.serde.DeltaChain;

/**
 * The current user's parked sample snapshots in keyed state, by impression id, in the order they came: the encoded
 * snapshots ({@code parked-feedback}) and their ids and impression times ({@code parked-feedback-ids},
 * {@code parked-feedback-times}).
 *
 * <p>A user's samples a few impressions apart carry the same history but for an exposure or two, so a snapshot is
 * stored as its {@link ByteDelta} from the one before it, except where the chain would reach {@link #MAX_CHAIN}
 * deltas or the delta saves nothing. Samples leave about in the order they came, so removing one stores the one
 * after it whole first (its base is going); the oldest parked snapshot is thus whole and reads take no delta.
 */
final class ParkedFeedback {

    static final int MAX_CHAIN = 16;
    private static final int RECENT_USERS = 1_024;

    private final MapState<String, byte[]> stored;
    private final ValueState<String[]> ids;
    private final ValueState<long[]> times;
    private final Supplier<Object> currentKey;
    private final ByteDelta delta = new ByteDelta();
    /** The newest parked snapshot of each of the users seen last, whole: the next one's base. */
    private final Map<Object, Newest> newest = new LinkedHashMap<>(RECENT_USERS, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Newest> eldest) {
            return size() > RECENT_USERS;
        }
    };

    ParkedFeedback(MapState<String, byte[]> stored, ValueState<String[]> ids, ValueState<long[]> times,
            Supplier<Object> currentKey) {
        this.stored = stored;
        this.ids = ids;
        this.times = times;
        this.currentKey = currentKey;
    }

    boolean contains(String impressionId) throws Exception {
        return stored.contains(impressionId);
    }

    /** Parks {@code snapshot} (whole) as the newest of the user's; the caller checks the id is not parked yet. */
    void park(String impressionId, long impressionTimeMs, byte[] snapshot) throws Exception {
        String[] before = ids();
        long[] beforeTimes = times();
        String[] after = Arrays.copyOf(before, before.length + 1);
        long[] afterTimes = Arrays.copyOf(beforeTimes, beforeTimes.length + 1);
        after[before.length] = impressionId;
        afterTimes[before.length] = impressionTimeMs;
        stored.put(impressionId, asStored(before, snapshot));
        ids.update(after);
        times.update(afterTimes);
        newest.put(currentKey.get(), new Newest(impressionId, snapshot));
    }

    /** The parked snapshot of {@code impressionId}, whole; null if none is parked. */
    byte[] get(String impressionId) throws Exception {
        String[] all = ids();
        int i = indexOf(all, impressionId);
        return i < 0 ? null : whole(all, i);
    }

    /** Removes the snapshot of {@code impressionId}, if parked. */
    void remove(String impressionId) throws Exception {
        String[] all = ids();
        int i = indexOf(all, impressionId);
        if (i >= 0) {
            removeAll(all, times(), index -> index == i);
        }
    }

    /** Removes the snapshots whose impression time is {@code due}. */
    void removeWhere(LongPredicate due) throws Exception {
        long[] allTimes = times();
        removeAll(ids(), allTimes, index -> due.test(allTimes[index]));
    }

    private long[] times() throws Exception {
        long[] value = times.value();
        return value == null ? new long[0] : value;
    }

    private String[] ids() throws Exception {
        String[] value = ids.value();
        return value == null ? new String[0] : value;
    }

    private void removeAll(String[] all, long[] allTimes, IntPredicate remove) throws Exception {
        // Those whose base is going are made whole first, while every chain is intact.
        Map<Integer, byte[]> rebased = new LinkedHashMap<>();
        for (int i = 1; i < all.length; i++) {
            if (!remove.test(i) && remove.test(i - 1) && ByteDelta.isDelta(stored.get(all[i]))) {
                rebased.put(i, whole(all, i));
            }
        }
        int kept = 0;
        String[] keptIds = new String[all.length];
        long[] keptTimes = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            if (remove.test(i)) {
                stored.remove(all[i]);
            } else {
                keptIds[kept] = all[i];
                keptTimes[kept++] = allTimes[i];
            }
        }
        for (Map.Entry<Integer, byte[]> value : rebased.entrySet()) {
            stored.put(all[value.getKey()], value.getValue());
        }
        if (kept == all.length) {
            return;
        }
        if (kept == 0) {
            ids.clear();
            times.clear();
            newest.remove(currentKey.get());
        } else {
            ids.update(Arrays.copyOf(keptIds, kept));
            times.update(Arrays.copyOf(keptTimes, kept));
            Newest known = newest.get(currentKey.get());
            if (known != null && !known.impressionId.equals(keptIds[kept - 1])) {
                newest.remove(currentKey.get());
            }
        }
    }

    private byte[] asStored(String[] before, byte[] snapshot) throws Exception {
        int last = before.length - 1;
        return DeltaChain.toStore(delta, last < 0 ? null : stored.get(before[last]), () -> whole(before, last), snapshot,
                MAX_CHAIN);
    }

    /** The snapshot at {@code all[i]} whole, from the nearest at or before it stored whole or remembered. */
    private byte[] whole(String[] all, int i) throws Exception {
        Newest known = newest.get(currentKey.get());
        return DeltaChain.whole(i, j -> known != null && known.impressionId.equals(all[j]) ? known.snapshot : null,
                j -> stored.get(all[j]));
    }

    private static int indexOf(String[] all, String impressionId) {
        for (int i = 0; i < all.length; i++) {
            if (all[i].equals(impressionId)) {
                return i;
            }
        }
        return -1;
    }

    private record Newest(String impressionId, byte[] snapshot) {}
}
