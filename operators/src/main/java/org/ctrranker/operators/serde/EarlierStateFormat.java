package org.ctrranker.operators.serde;

import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.OperatorStateStore;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.runtime.state.FunctionInitializationContext;

/**
 * Whether keyed state an operator wrote in an earlier format (under its earlier names) may still hold entries, so
 * the operator reads it only while it may; one per operator. On the RocksDB backend every read of it is a lookup, and every clear a
 * write, even when it is empty, which it always is unless the job was restored from a checkpoint written before
 * the format changed. Such a restore opens a window of processing time as long as the earlier state's time to
 * live (its entries are gone after it), or without end for state without one; the window travels in operator state,
 * so a later restore does not lose it.
 *
 * <p>Broadcast state, each subtask's copy alike but for milliseconds: union list state, where earlier builds kept it,
 * makes Flink decline every checkpoint while some of an operator's subtasks have finished and others not (the end of
 * a bounded input). Their checkpoints are still read; a job restored from one carries that union state on, empty.
 */
public final class EarlierStateFormat {

    private static final MapStateDescriptor<String, Long> WINDOW = new MapStateDescriptor<>(
            "keyed-state-in-earlier-format-window", StringSerializer.INSTANCE, LongSerializer.INSTANCE);
    private static final String READ_UNTIL = "read-until-ms";
    /** Where earlier builds' checkpoints keep the window: union list state, an entry per subtask. */
    static final String UNION_WINDOW = "keyed-state-in-earlier-format-until";

    private final long timeToLiveMs;
    private BroadcastState<String, Long> store;
    private long readUntilMs;

    private EarlierStateFormat(long timeToLiveMs) {
        this.timeToLiveMs = timeToLiveMs;
    }

    /** Earlier state whose entries live at most {@code timeToLiveMs} of processing time after they were written. */
    public static EarlierStateFormat withTimeToLive(long timeToLiveMs) {
        if (timeToLiveMs <= 0) {
            throw new IllegalArgumentException("a time to live must be positive: " + timeToLiveMs);
        }
        return new EarlierStateFormat(timeToLiveMs);
    }

    /** Earlier state that holds entries until the operator removes them. */
    public static EarlierStateFormat withoutTimeToLive() {
        return new EarlierStateFormat(Long.MAX_VALUE);
    }

    /** Call from the function's {@code initializeState}, which comes before {@code open}. */
    public void initialize(FunctionInitializationContext context) throws Exception {
        OperatorStateStore states = context.getOperatorStateStore();
        store = states.getBroadcastState(WINDOW);
        readUntilMs = 0;
        if (!context.isRestored()) {
            return;
        }
        Long until = store.get(READ_UNTIL);
        boolean marked = until != null;
        if (marked) {
            readUntilMs = until;
        }
        // registered by the restore alone: a job that never had it does not get union state from this
        if (states.getRegisteredStateNames().contains(UNION_WINDOW)) {
            ListState<Long> earlier = states.getUnionListState(new ListStateDescriptor<>(UNION_WINDOW, LongSerializer.INSTANCE));
            for (Long each : earlier.get()) {
                marked = true;
                readUntilMs = Math.max(readUntilMs, each);
            }
            earlier.clear();
        }
        if (!marked) {
            // a checkpoint from before the format changed: its entries were written before now
            long now = System.currentTimeMillis();
            readUntilMs = timeToLiveMs > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + timeToLiveMs;
        }
    }

    /** Whether the earlier state may hold entries now; true until {@link #initialize} has run. */
    public boolean mayHoldEntries() {
        // most operators were never restored from an earlier format: no clock read per record for them
        return store == null || (readUntilMs != 0 && System.currentTimeMillis() < readUntilMs);
    }

    /** Call from the function's {@code snapshotState}. */
    public void snapshot() throws Exception {
        store.put(READ_UNTIL, readUntilMs);
    }
}
