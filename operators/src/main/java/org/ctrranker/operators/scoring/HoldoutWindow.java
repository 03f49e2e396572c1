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
import org.ctrranker.models.Sample;
import org.ctrranker.operators.serde.AvroBytesSerializer;
import org.ctrranker.operators.serde.EarlierStateFormat;
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
 *
 * <p>The state is written through but read once per function instance: the gate reads the whole window at every
 * version, which on RocksDB decoded every sample and looked up every prediction again, and on either backend
 * turned every sample into model inputs again. So the window is mirrored in memory (the samples' model inputs and
 * the live predictions), filled from the state at the first read after a restore, and used by one key only.
 *
 * <p>Samples are held in state as their Avro bytes: as objects, a window of 5,000 with their feedback snapshots was
 * some 80 MB and millions of objects of the live heap, each sample dying in the old generation minutes after it
 * came. A window checkpointed before, with the samples as objects, is still read, slot by slot until replaced.
 */
final class HoldoutWindow {

    private final MapState<Integer, byte[]> slots;
    /** Where the window was kept before its samples were held as bytes: read until each slot is replaced. */
    private final MapState<Integer, TrainingSample> slotsAsObjects;
    private final EarlierStateFormat earlierFormat;
    private final AvroBytesSerializer<TrainingSample> encoding = AvroBytesSerializer.of(TrainingSample.class);
    private final MapState<Integer, Float> livePredictions;
    private final int capacity;
    private final Sample[] inputs;
    private final float[] live;
    private final boolean[] hasLive;
    /** Whether the arrays hold what the state holds; false until the first read after the function opened. */
    private boolean mirrored;

    HoldoutWindow(RuntimeContext context, int capacity, EarlierStateFormat earlierFormat) {
        this.slots = context.getMapState(new MapStateDescriptor<>("trainer-holdout-encoded", IntSerializer.INSTANCE,
                AvroBytesSerializer.of(TrainingSample.class)));
        this.slotsAsObjects = context.getMapState(new MapStateDescriptor<>("trainer-holdout", IntSerializer.INSTANCE,
                SharedValueSerializer.of(context, TrainingSample.class)));
        this.livePredictions = context.getMapState(
                new MapStateDescriptor<>("trainer-holdout-live-predictions", Types.INT, Types.FLOAT));
        this.earlierFormat = earlierFormat;
        this.capacity = capacity;
        this.inputs = new Sample[capacity];
        this.live = new float[capacity];
        this.hasLive = new boolean[capacity];
    }

    /** Stores the {@code number}-th held-out sample (0-based), replacing the oldest once full. */
    void add(long number, TrainingSample sample) throws Exception {
        int slot = slot(number);
        slots.put(slot, encoding.encode(sample));
        if (earlierFormat.mayHoldEntries()) {
            slotsAsObjects.remove(slot);
        }
        livePredictions.remove(slot);
        if (mirrored) {
            inputs[slot] = ModelInputs.sample(sample);
            hasLive[slot] = false;
        }
    }

    /**
     * The live version's predictions of {@link #newestInputs}{@code (count)}, in its order: kept ones where there
     * are, {@code predictLive} over the model inputs of the rest (which are then kept).
     */
    float[] livePredictions(long count, Function<List<Sample>, float[]> predictLive) throws Exception {
        mirror(count);
        int n = size(count);
        float[] out = new float[n];
        List<Integer> missing = new ArrayList<>();
        long first = count - n;
        for (int i = 0; i < n; i++) {
            int slot = slot(first + i);
            if (hasLive[slot]) {
                out[i] = live[slot];
            } else {
                missing.add(i);
            }
        }
        if (!missing.isEmpty()) {
            float[] predicted = predictLive.apply(missing.stream().map(i -> inputs[slot(first + i)]).toList());
            for (int m = 0; m < predicted.length; m++) {
                out[missing.get(m)] = predicted[m];
                keepLive(slot(first + missing.get(m)), predicted[m]);
            }
        }
        return out;
    }

    /** Keeps {@code predictions} of {@link #newestInputs}{@code (count)} as the live version's (it just went live). */
    void replaceLivePredictions(long count, float[] predictions) throws Exception {
        mirror(count);
        long first = count - predictions.length;
        for (int i = 0; i < predictions.length; i++) {
            keepLive(slot(first + i), predictions[i]);
        }
    }

    /** The model inputs of the newest samples of {@code count} added so far, oldest first. */
    List<Sample> newestInputs(long count) throws Exception {
        mirror(count);
        int n = size(count);
        List<Sample> out = new ArrayList<>(n);
        for (long i = count - n; i < count; i++) {
            out.add(inputs[slot(i)]);
        }
        return out;
    }

    private void keepLive(int slot, float prediction) throws Exception {
        livePredictions.put(slot, prediction);
        live[slot] = prediction;
        hasLive[slot] = true;
    }

    private void mirror(long count) throws Exception {
        if (mirrored) {
            return;
        }
        int n = size(count);
        for (long i = count - n; i < count; i++) {
            int slot = slot(i);
            byte[] encoded = slots.get(slot);
            TrainingSample sample = encoded != null ? encoding.decode(encoded)
                    : earlierFormat.mayHoldEntries() ? slotsAsObjects.get(slot) : null;
            if (sample == null) {
                throw new IllegalStateException("held-out sample " + i + " of " + count + " is missing from state");
            }
            inputs[slot] = ModelInputs.sample(sample);
            Float kept = livePredictions.get(slot);
            hasLive[slot] = kept != null;
            live[slot] = kept == null ? 0f : kept;
        }
        mirrored = true;
    }

    private int size(long count) {
        return (int) Math.min(count, capacity);
    }

    private int slot(long number) {
        return (int) (number % capacity);
    }
}
