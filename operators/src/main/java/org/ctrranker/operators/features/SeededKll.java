package org.ctrranker.operators.features;

import java.lang.reflect.Field;
import java.util.Random;
import org.apache.datasketches.kll.KllSketch;

/**
 * Makes KLL compaction reproducible. DataSketches' KLL draws its coin flips from one static, unseeded
 * {@code Random}; left alone, the same input gives slightly different sketches run to run, so replays
 * would give different quantiles (and BCM weights). Every update and merge of this project's sketches
 * runs through {@link #run} with a seed derived from the data, under one JVM-wide lock (no other code
 * in the job uses KLL). If a DataSketches version ever drops the field, sketches stay correct, only
 * not reproducible, and {@link #reproducible()} says so.
 */
final class SeededKll {

    private static final Random SHARED = locateSharedRandom();

    private SeededKll() {}

    static synchronized void run(long seed, Runnable sketchWork) {
        if (SHARED != null) {
            SHARED.setSeed(seed);
        }
        sketchWork.run();
    }

    static boolean reproducible() {
        return SHARED != null;
    }

    private static Random locateSharedRandom() {
        try {
            Field field = KllSketch.class.getDeclaredField("random");
            field.setAccessible(true);
            return (Random) field.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
