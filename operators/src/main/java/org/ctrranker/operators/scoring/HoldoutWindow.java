package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.serde.SharedValueSerializer;

/**
 * Keyed state holding the newest held-out samples, a ring of {@code capacity} slots indexed by arrival
 * number. The caller keeps the count (in its checkpointed state), so the ring is read back in the same
 * order however the state backend iterates maps.
 *
 * <p>Beside each sample, the live version's prediction of it once the gate has made one: the gate then
 * scores with the live version only the samples added since, not the whole window again (a window of
 * 5,000 with the job's model is 70 to 300 ms of a core per version, on the cores the scorers share). A slot's
 * prediction is dropped when its sample is replaced; the caller replaces them all when another version goes live.
 */
final class HoldoutWindow {

    private final MapState<Integer, TrainingSample> slots;
    private final MapState<Integer, Float> livePredictions;
    private final int capacity;

    HoldoutWindow(RuntimeContext context, int capacity) {
        // Samples are never changed here, so the copy of the map a checkpoint takes while it is written out shares
        // them: deep copies of the 5,000 were about 60 MB of garbage per checkpoint (bench e2e, profiled).
        this.slots = context.getMapState(new MapStateDescriptor<>("trainer-holdout", IntSerializer.INSTANCE,
                SharedValueSerializer.of(context, TrainingSample.class)));
        this.livePredictions = context.getMapState(
                new MapStateDescriptor<>("trainer-holdout-live-predictions", Types.INT, Types.FLOAT));
        this.capacity = capacity;
    }

    /** Stores the {@code number}-th held-out sample (0-based), replacing the oldest once full. */
    void add(long number, TrainingSample sample) throws Exception {
        slots.put(slot(number), sample);
        livePredictions.remove(slot(number));
    }

    /**
     * The live version's predictions of {@link #newest}{@code (count)}, in its order: kept ones where there
     * are, {@code predictLive} over the rest (which are then kept).
     */
    float[] livePredictions(long count, List<TrainingSample> newest, Function<List<TrainingSample>, float[]> predictLive)
            throws Exception {
        float[] out = new float[newest.size()];
        List<Integer> missing = new ArrayList<>();
        long first = count - newest.size();
        for (int i = 0; i < out.length; i++) {
            Float kept = livePredictions.get(slot(first + i));
            if (kept == null) {
                missing.add(i);
            } else {
                out[i] = kept;
            }
        }
        if (!missing.isEmpty()) {
            float[] predicted = predictLive.apply(missing.stream().map(newest::get).toList());
            for (int m = 0; m < predicted.length; m++) {
                out[missing.get(m)] = predicted[m];
                livePredictions.put(slot(first + missing.get(m)), predicted[m]);
            }
        }
        return out;
    }

    /** Keeps {@code predictions} of {@link #newest}{@code (count)} as the live version's (it just went live). */
    void replaceLivePredictions(long count, float[] predictions) throws Exception {
        long first = count - predictions.length;
        for (int i = 0; i < predictions.length; i++) {
            livePredictions.put(slot(first + i), predictions[i]);
        }
    }

    private int slot(long number) {
        return (int) (number % capacity);
    }

    /** The newest samples of {@code count} added so far, oldest first. */
    List<TrainingSample> newest(long count) throws Exception {
        int n = (int) Math.min(count, capacity);
        List<TrainingSample> out = new ArrayList<>(n);
        for (long i = count - n; i < count; i++) {
            out.add(slots.get(slot(i)));
        }
        return out;
    }
}
