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
import org.ctrranker.operators.serde.AvroBytesSerializer;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.EarlierStateFormat;
import org.ctrranker.operators.serde.SharedValueSerializer;

/**
 * Keyed state holding samples until the watermark passes their event time (one event-time timer per
 * distinct time), so that a function handles them in event-time order whatever order they came in.
 * Used by the feature stages and by the online trainer.
 *
 * <p>A sample waits as its Avro bytes ({@link AvroBytesSerializer}), decoded afresh when it is taken out. Held
 * as objects, the samples past the feedback stage (each with its feedback snapshot, hundreds of objects) were
 * most of what the young collections copied and promoted while they waited, and then died in the old
 * generation. Samples that waited as objects in a checkpoint taken before are still taken out at their time.
 */
public final class EventTimeBuffer {

    private final MapState<Long, List<byte[]>> waiting;
    /** Where samples waited before they were held as bytes: read while {@link #earlierFormat} says it may hold any. */
    private final MapState<Long, List<TrainingSample>> waitingAsObjects;
    private final EarlierStateFormat earlierFormat;
    private final AvroBytesSerializer<TrainingSample> samples = AvroBytesSerializer.of(TrainingSample.class);

    /** The buffer of a feature stage; {@code name} is its state's name before samples were held as bytes. */
    public EventTimeBuffer(RuntimeContext context, String name, StateTtlConfig ttl, EarlierStateFormat earlierFormat) {
        MapStateDescriptor<Long, List<TrainingSample>> asObjects = new MapStateDescriptor<>(name, Types.LONG,
                new ListTypeInfo<>(AvroTypeInfo.forRecord(TrainingSample.class)));
        MapStateDescriptor<Long, List<byte[]>> asBytes = bytesDescriptor(name);
        if (ttl != null) {
            asObjects.enableTimeToLive(ttl);
            asBytes.enableTimeToLive(ttl);
        }
        this.waitingAsObjects = context.getMapState(asObjects);
        this.waiting = context.getMapState(asBytes);
        this.earlierFormat = earlierFormat;
    }

    private EventTimeBuffer(MapState<Long, List<byte[]>> waiting, MapState<Long, List<TrainingSample>> asObjects,
            EarlierStateFormat earlierFormat) {
        this.waiting = waiting;
        this.waitingAsObjects = asObjects;
        this.earlierFormat = earlierFormat;
    }

    /**
     * The trainer's buffer. Its samples waited as objects shared with their checkpoint copies
     * ({@link SharedValueSerializer}) before they were held as bytes; {@code name} is that state's name.
     */
    public static EventTimeBuffer ofTrainer(RuntimeContext context, String name, EarlierStateFormat earlierFormat) {
        return new EventTimeBuffer(context.getMapState(bytesDescriptor(name)),
                context.getMapState(new MapStateDescriptor<>(name, LongSerializer.INSTANCE,
                        new ListSerializer<>(SharedValueSerializer.of(context, TrainingSample.class)))), earlierFormat);
    }

    private static MapStateDescriptor<Long, List<byte[]>> bytesDescriptor(String name) {
        return new MapStateDescriptor<>(name + "-encoded", LongSerializer.INSTANCE,
                new ListSerializer<>(AvroBytesSerializer.of(TrainingSample.class)));
    }

    /** Holds {@code sample} until the watermark reaches {@code time}. */
    public void add(long time, TrainingSample sample, TimerService timers) throws Exception {
        List<byte[]> due = waiting.get(time);
        if (due == null) {
            due = new ArrayList<>(1);
            if (!earlierFormat.mayHoldEntries() || !waitingAsObjects.contains(time)) {
                // A time already waiting has its timer (timers and this map are checkpointed together); on RocksDB
                // a registration beyond the timer queue's cache is a write, even of a timer it holds.
                timers.registerEventTimeTimer(time);
            }
        }
        due.add(samples.encode(sample));
        waiting.put(time, due);
    }

    /** Removes and returns the samples due at {@code time}, in a fixed order (by {@code order}); empty if none. */
    public List<TrainingSample> take(long time, Comparator<TrainingSample> order) throws Exception {
        List<byte[]> encoded = waiting.get(time);
        List<TrainingSample> restored = earlierFormat.mayHoldEntries() ? waitingAsObjects.get(time) : null;
        if (encoded == null && restored == null) {
            return List.of();
        }
        List<TrainingSample> due = new ArrayList<>();
        if (encoded != null) {
            for (byte[] sample : encoded) {
                due.add(samples.decode(sample));
            }
            waiting.remove(time);
        }
        if (restored != null) {
            due.addAll(restored);
            waitingAsObjects.remove(time);
        }
        due.sort(order);
        return due;
    }

    public boolean isEmpty() throws Exception {
        return waiting.isEmpty() && (!earlierFormat.mayHoldEntries() || waitingAsObjects.isEmpty());
    }
}
