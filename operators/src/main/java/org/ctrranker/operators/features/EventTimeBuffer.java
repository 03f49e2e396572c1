package org.ctrranker.operators.features;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.ListSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.streaming.api.TimerService;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.SharedValueSerializer;

/**
 * Keyed state holding samples until the watermark passes their event time (one event-time timer per
 * distinct time), so that a function handles them in event-time order whatever order they came in.
 * Used by the feature stages and by the online trainer.
 */
public final class EventTimeBuffer {

    private final MapState<Long, List<TrainingSample>> waiting;

    /** A buffer whose caller may change the samples it takes out. */
    public EventTimeBuffer(RuntimeContext context, String name, StateTtlConfig ttl) {
        MapStateDescriptor<Long, List<TrainingSample>> descriptor = new MapStateDescriptor<>(name, Types.LONG,
                new ListTypeInfo<>(AvroTypeInfo.forRecord(TrainingSample.class)));
        if (ttl != null) {
            descriptor.enableTimeToLive(ttl);
        }
        this.waiting = context.getMapState(descriptor);
    }

    private EventTimeBuffer(MapState<Long, List<TrainingSample>> waiting) {
        this.waiting = waiting;
    }

    /**
     * A buffer for a caller that never changes a sample it puts in or takes out. While a checkpoint is written out,
     * the heap state backend copies a key's whole map on its first change; this buffer's copy shares the samples
     * ({@link SharedValueSerializer}) instead of deep-copying them. The trainer holds all its samples under one key,
     * so its copies were tens of MB per checkpoint, collected stop-the-world in every task. State written by the
     * copying buffer restores into this one.
     */
    public static EventTimeBuffer sharingSamples(RuntimeContext context, String name) {
        return new EventTimeBuffer(context.getMapState(new MapStateDescriptor<>(name, LongSerializer.INSTANCE,
                new ListSerializer<>(SharedValueSerializer.of(context, TrainingSample.class)))));
    }

    /** Holds {@code sample} until the watermark reaches {@code time}. */
    public void add(long time, TrainingSample sample, TimerService timers) throws Exception {
        List<TrainingSample> samples = waiting.get(time);
        if (samples == null) {
            samples = new ArrayList<>(1);
            // A time already waiting has its timer (timers and this map are checkpointed together); on RocksDB a
            // registration beyond the timer queue's cache is a write, even of a timer it holds.
            timers.registerEventTimeTimer(time);
        }
        samples.add(sample);
        waiting.put(time, samples);
    }

    /** Removes and returns the samples due at {@code time}, in a fixed order (by {@code order}); empty if none. */
    public List<TrainingSample> take(long time, Comparator<TrainingSample> order) throws Exception {
        List<TrainingSample> due = waiting.get(time);
        if (due == null) {
            return List.of();
        }
        waiting.remove(time);
        due.sort(order);
        return due;
    }

    public boolean isEmpty() throws Exception {
        return waiting.isEmpty();
    }
}
