package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.serde.AvroTypeInfo;

/**
 * Keyed state holding the newest held-out samples, a ring of {@code capacity} slots indexed by arrival
 * number. The caller keeps the count (in its checkpointed state), so the ring is read back in the same
 * order however the state backend iterates maps.
 */
final class HoldoutWindow {

    private final MapState<Integer, TrainingSample> slots;
    private final int capacity;

    HoldoutWindow(RuntimeContext context, int capacity) {
        this.slots = context.getMapState(
                new MapStateDescriptor<>("trainer-holdout", Types.INT, AvroTypeInfo.forRecord(TrainingSample.class)));
        this.capacity = capacity;
    }

    /** Stores the {@code number}-th held-out sample (0-based), replacing the oldest once full. */
    void add(long number, TrainingSample sample) throws Exception {
        slots.put((int) (number % capacity), sample);
    }

    /** The newest samples of {@code count} added so far, oldest first. */
    List<TrainingSample> newest(long count) throws Exception {
        int n = (int) Math.min(count, capacity);
        List<TrainingSample> out = new ArrayList<>(n);
        for (long i = count - n; i < count; i++) {
            out.add(slots.get((int) (i % capacity)));
        }
        return out;
    }
}
