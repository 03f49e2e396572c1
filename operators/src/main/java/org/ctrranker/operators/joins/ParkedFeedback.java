package org.ctrranker.operators.joins;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.ctrranker.operators.serde.ByteDelta;
import org.ctrranker.operators.serde.DeltaChain;

/**
 * The current user's parked sample snapshots in keyed state, by impression id ({@code parked-feedback}).
 *
 * <p>A user's samples a few impressions apart carry the same history but for an exposure or two, so a snapshot is
 * stored as its {@link ByteDelta} from the newest one parked before it, except where the chain would reach
 * {@link #MAX_CHAIN} deltas or the delta saves nothing. Removing one first stores the delta taken from it whole.
 *
 * <p>Every change touches a few entries of its own, never a list of the user's whole parking, so a busy user costs
 * RocksDB no more per sample than a quiet one: a delta names its base ({@code parked-feedback-bases}) and a base its
 * delta ({@code parked-feedback-successors}); {@code parked-feedback-newest} is the next one's base, and
 * {@code parked-feedback-due} lists the ids to remove at each removal time. State of the first layout (one list of a
 * user's ids and one of their times, rewritten at every change) is taken over at the user's next access.
 */
final class ParkedFeedback {

    static final int MAX_CHAIN = 16;
    private static final int RECENT_USERS = 1_024;

    private final MapState<String, byte[]> stored;
    private final MapState<String, String> bases;
    private final MapState<String, String> successors;
    private final ValueState<String> newestId;
    private final MapState<Long, String[]> due;
    private final ValueState<String[]> firstLayoutIds;
    private final ValueState<long[]> firstLayoutTimes;
    private final LongUnaryOperator removalTime;
    private final Supplier<Object> currentKey;
    private final ByteDelta delta = new ByteDelta();
    /** The newest parked snapshot of each of the users seen last, whole: the next one's base. */
    private final Map<Object, Newest> newest = new LinkedHashMap<>(RECENT_USERS, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Newest> eldest) {
            return size() > RECENT_USERS;
        }
    };

    /**
     * The keyed state of {@code context}, entries expiring {@code ttlMs} after their last write; a snapshot not taken
     * before is removed at {@code removalTime} of its impression time.
     */
    ParkedFeedback(RuntimeContext context, long ttlMs, LongUnaryOperator removalTime, Supplier<Object> currentKey) {
        this.stored = context.getMapState(StateTtl.withTtl(new MapStateDescriptor<>("parked-feedback", Types.STRING,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO), ttlMs));
        this.bases = context.getMapState(StateTtl.withTtl(
                new MapStateDescriptor<>("parked-feedback-bases", Types.STRING, Types.STRING), ttlMs));
        this.successors = context.getMapState(StateTtl.withTtl(
                new MapStateDescriptor<>("parked-feedback-successors", Types.STRING, Types.STRING), ttlMs));
        this.newestId = context.getState(StateTtl.withTtl(
                new ValueStateDescriptor<>("parked-feedback-newest", Types.STRING), ttlMs));
        this.due = context.getMapState(StateTtl.withTtl(new MapStateDescriptor<>("parked-feedback-due", Types.LONG,
                BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO), ttlMs));
        this.firstLayoutIds = context.getState(StateTtl.withTtl(new ValueStateDescriptor<>("parked-feedback-ids",
                BasicArrayTypeInfo.STRING_ARRAY_TYPE_INFO), ttlMs));
        this.firstLayoutTimes = context.getState(StateTtl.withTtl(new ValueStateDescriptor<>("parked-feedback-times",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO), ttlMs));
        this.removalTime = removalTime;
        this.currentKey = currentKey;
    }

    boolean contains(String impressionId) throws Exception {
        return stored.contains(impressionId);
    }

    /** Parks {@code snapshot} (whole) as the user's newest; the caller checks the id is not parked yet. */
    void park(String impressionId, long impressionTimeMs, byte[] snapshot) throws Exception {
        takeOverFirstLayout();
        String baseId = newestId.value();
        byte[] baseStored = baseId == null ? null : stored.get(baseId);
        byte[] toStore = DeltaChain.toStore(delta, baseStored, () -> whole(baseId), snapshot, MAX_CHAIN);
        if (ByteDelta.isDelta(toStore)) {
            bases.put(impressionId, baseId);
            successors.put(baseId, impressionId);
        }
        stored.put(impressionId, toStore);
        newestId.update(impressionId);
        addDue(removalTime.applyAsLong(impressionTimeMs), impressionId);
        newest.put(currentKey.get(), new Newest(impressionId, snapshot));
    }

    /** The parked snapshot of {@code impressionId}, whole; null if none is parked. */
    byte[] get(String impressionId) throws Exception {
        takeOverFirstLayout();
        return whole(impressionId);
    }

    /** Removes the parked snapshot of {@code impressionId} and returns it whole; null if none is parked. */
    byte[] take(String impressionId) throws Exception {
        takeOverFirstLayout();
        byte[] parked = stored.get(impressionId);
        if (parked == null) {
            return null;
        }
        byte[] whole = ByteDelta.isDelta(parked) ? whole(impressionId) : parked;
        remove(impressionId, parked, whole);
        return whole;
    }

    /** Removes the snapshot of {@code impressionId}, if parked. */
    void remove(String impressionId) throws Exception {
        takeOverFirstLayout();
        byte[] parked = stored.get(impressionId);
        if (parked != null) {
            remove(impressionId, parked, null);
        }
    }

    /** Removes {@code impressionId}, stored as {@code parked}; {@code whole}, if known, is its value whole. */
    private void remove(String impressionId, byte[] parked, byte[] whole) throws Exception {
        String successor = successors.get(impressionId);
        if (successor != null) {
            successors.remove(impressionId);
            byte[] successorDelta = stored.get(successor);
            if (successorDelta != null && ByteDelta.isDelta(successorDelta)) {
                // made whole while its base is still known
                byte[] base = whole != null ? whole : ByteDelta.isDelta(parked) ? whole(impressionId) : parked;
                stored.put(successor, ByteDelta.apply(base, successorDelta));
                bases.remove(successor);
            }
        }
        if (ByteDelta.isDelta(parked)) {
            String base = bases.get(impressionId);
            if (base != null) {
                bases.remove(impressionId);
                successors.remove(base);
            }
        }
        stored.remove(impressionId);
        if (impressionId.equals(newestId.value())) {
            newestId.clear();
            newest.remove(currentKey.get());
        }
    }

    /** Removes the snapshots due at {@code time} that are still there. */
    void removeDue(long time) throws Exception {
        takeOverFirstLayout();
        String[] ids = due.get(time);
        if (ids == null) {
            return;
        }
        due.remove(time);
        for (String impressionId : ids) {
            byte[] parked = stored.get(impressionId);
            if (parked != null) {
                remove(impressionId, parked, null);
            }
        }
    }

    /** The snapshot of {@code impressionId} whole, from the nearest base stored whole or remembered; null if none. */
    private byte[] whole(String impressionId) throws Exception {
        Newest known = newest.get(currentKey.get());
        List<byte[]> deltas = new ArrayList<>();
        String id = impressionId;
        byte[] value;
        while (true) {
            if (known != null && known.impressionId.equals(id)) {
                value = known.snapshot;
                break;
            }
            value = stored.get(id);
            if (value == null) {
                if (id.equals(impressionId)) {
                    return null;
                }
                throw new IllegalStateException("the base " + id + " of parked snapshot " + impressionId + " is missing");
            }
            if (!ByteDelta.isDelta(value)) {
                break;
            }
            deltas.add(value);
            id = bases.get(id);
            if (id == null) {
                throw new IllegalStateException("a delta under parked snapshot " + impressionId + " names no base");
            }
        }
        for (int i = deltas.size() - 1; i >= 0; i--) {
            value = ByteDelta.apply(value, deltas.get(i));
        }
        return value;
    }

    private void addDue(long time, String impressionId) throws Exception {
        String[] dueThen = due.get(time);
        String[] withThis = dueThen == null ? new String[1] : Arrays.copyOf(dueThen, dueThen.length + 1);
        withThis[withThis.length - 1] = impressionId;
        due.put(time, withThis);
    }

    /**
     * Moves the user's state of the first layout, if any, to this one: there each delta's base was the id before it
     * in the list, and the removal timers stand at the same times.
     */
    private void takeOverFirstLayout() throws Exception {
        String[] ids = firstLayoutIds.value();
        if (ids == null) {
            return;
        }
        long[] times = firstLayoutTimes.value();
        for (int i = 0; i < ids.length; i++) {
            if (i > 0 && ByteDelta.isDelta(stored.get(ids[i]))) {
                bases.put(ids[i], ids[i - 1]);
                successors.put(ids[i - 1], ids[i]);
            }
            addDue(removalTime.applyAsLong(times[i]), ids[i]);
        }
        newestId.update(ids[ids.length - 1]);
        firstLayoutIds.clear();
        firstLayoutTimes.clear();
    }

    private record Newest(String impressionId, byte[] snapshot) {}
}
