package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ValueState;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.serde.ByteDelta;
import org.ctrranker.operators.serde.DeltaChain;

/**
 * The current user's feedback snapshots in the scorer's keyed state, by record time: the encoded snapshots
 * ({@code feedback-snapshots}) and their times in order ({@code feedback-snapshot-times}, the index a lookup
 * searches instead of reading every snapshot, on RocksDB each one's bytes).
 *
 * <p>Snapshots a few impressions apart are the same history but for an exposure or two, and a busy user has dozens
 * within the state lag, each of them whole (up to hundreds of exposures): kept whole, they were nearly all of the
 * scorers' state. So a snapshot is stored as its {@link ByteDelta} from the one before it in time, except where
 * that chain would reach {@link #MAX_CHAIN} deltas, where it has no predecessor, or where the delta saves nothing: a
 * read applies at most {@code MAX_CHAIN - 1} deltas. A value whose predecessor changes (one inserted or replaced before
 * it, or pruned) is stored whole again first. Values stored whole are the encoder's Avro bytes, as state written
 * before deltas holds them, so such state restores as it is.
 */
final class UserSnapshots {

    static final int MAX_CHAIN = 16;
    private static final int RECENT_USERS = 1_024;

    private final MapState<Long, byte[]> stored;
    private final ValueState<long[]> times;
    private final Supplier<Object> currentKey;
    private final ByteDelta delta = new ByteDelta();
    /**
     * Of the users seen last, the newest snapshot and the one read last, whole: the base of the user's next
     * snapshot and the start of the next read's chain, which would otherwise be rebuilt from up to
     * {@code MAX_CHAIN - 1} deltas. A time's value changes only through {@link #store}, which updates them. At most
     * two snapshots for each of {@link #RECENT_USERS} users: a few MB, against the whole snapshots kept before.
     */
    private final Map<Object, Recent> recent = new LinkedHashMap<>(RECENT_USERS, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Recent> eldest) {
            return size() > RECENT_USERS;
        }
    };

    UserSnapshots(MapState<Long, byte[]> stored, ValueState<long[]> times, Supplier<Object> currentKey) {
        this.stored = stored;
        this.times = times;
        this.currentKey = currentKey;
    }

    /** The record times, ascending; state written before the index existed gets it built from the snapshots once. */
    long[] times() throws Exception {
        long[] value = times.value();
        if (value == null) {
            List<Long> keys = new ArrayList<>();
            stored.keys().forEach(keys::add);
            value = keys.stream().mapToLong(Long::longValue).sorted().toArray();
            if (value.length > 0) {
                times.update(value);
            }
        }
        return value;
    }

    /** Keeps {@code snapshot} at record time {@code at}; of two at one time, the later as-of time, then larger bytes. */
    void keep(long at, byte[] snapshot) throws Exception {
        long[] before = times();
        int found = Arrays.binarySearch(before, at);
        if (found >= 0) {
            if (!newer(snapshot, whole(before, found))) {
                return;
            }
            byte[] next = wholeIfDelta(before, found + 1);
            store(before, found, snapshot);
            if (next != null) {
                stored.put(before[found + 1], next);
            }
            return;
        }
        int insertAt = -found - 1;
        byte[] next = wholeIfDelta(before, insertAt);
        long[] after = new long[before.length + 1];
        System.arraycopy(before, 0, after, 0, insertAt);
        after[insertAt] = at;
        System.arraycopy(before, insertAt, after, insertAt + 1, before.length - insertAt);
        times.update(after);
        store(after, insertAt, snapshot);
        if (next != null) {
            stored.put(after[insertAt + 1], next);
        }
    }

    /** The newest snapshot with record time at or before {@code asOfMs}, whole, or null. */
    byte[] at(long asOfMs) throws Exception {
        long[] all = times();
        int newest = newestAtOrBefore(all, asOfMs);
        if (newest < 0) {
            return null;
        }
        byte[] snapshot = whole(all, newest);
        Recent user = recent.computeIfAbsent(currentKey.get(), k -> new Recent());
        user.readAt = all[newest];
        user.read = snapshot;
        return snapshot;
    }

    /** Drops the snapshots older than the newest one at or before {@code asOfMs}. */
    void pruneBefore(long asOfMs) throws Exception {
        long[] all = times();
        int newestDue = newestAtOrBefore(all, asOfMs);
        if (newestDue <= 0) {
            return;
        }
        byte[] first = wholeIfDelta(all, newestDue);
        for (int i = 0; i < newestDue; i++) {
            stored.remove(all[i]);
        }
        if (first != null) {
            stored.put(all[newestDue], first);
        }
        times.update(Arrays.copyOfRange(all, newestDue, all.length));
    }

    void clear() throws Exception {
        for (long at : times()) {
            stored.remove(at);
        }
        times.clear();
        recent.remove(currentKey.get());
    }

    /** Index in {@code times} of the newest time at or before {@code asOfMs}; -1 if none. */
    private static int newestAtOrBefore(long[] times, long asOfMs) {
        int found = Arrays.binarySearch(times, asOfMs);
        return found >= 0 ? found : -found - 2;
    }

    /** Stores {@code snapshot} at {@code all[i]}, as a delta from its predecessor where the chain allows. */
    private void store(long[] all, int i, byte[] snapshot) throws Exception {
        stored.put(all[i], asStored(all, i, snapshot));
        Recent user = recent.computeIfAbsent(currentKey.get(), k -> new Recent());
        if (user.read != null && user.readAt == all[i]) {
            user.read = null;
        }
        if (i == all.length - 1) {
            user.newestAt = all[i];
            user.newest = snapshot;
        }
    }

    private byte[] asStored(long[] all, int i, byte[] snapshot) throws Exception {
        return DeltaChain.toStore(delta, i == 0 ? null : stored.get(all[i - 1]), () -> whole(all, i - 1), snapshot,
                MAX_CHAIN);
    }

    /** The snapshot at {@code all[i]} whole if stored as a delta (its predecessor is about to change); else null. */
    private byte[] wholeIfDelta(long[] all, int i) throws Exception {
        return i < all.length && ByteDelta.isDelta(stored.get(all[i])) ? whole(all, i) : null;
    }

    /** The snapshot at {@code all[i]} whole, from the nearest at or before it that is stored whole or remembered. */
    private byte[] whole(long[] all, int i) throws Exception {
        Recent user = recent.get(currentKey.get());
        return DeltaChain.whole(i, j -> user == null ? null : user.at(all[j]), j -> stored.get(all[j]));
    }

    /** A user's snapshots known whole without reading the state: the newest stored and the one read last. */
    private static final class Recent {
        long newestAt;
        byte[] newest;
        long readAt;
        byte[] read;

        byte[] at(long time) {
            return newest != null && newestAt == time ? newest : read != null && readAt == time ? read : null;
        }
    }

    private static boolean newer(byte[] snapshot, byte[] existing) {
        if (existing == null) {
            return true;
        }
        long asOf = UserFeedbackFunction.asOfMs(snapshot);
        long existingAsOf = UserFeedbackFunction.asOfMs(existing);
        return asOf != existingAsOf ? asOf > existingAsOf : Arrays.compareUnsigned(snapshot, existing) > 0;
    }
}
