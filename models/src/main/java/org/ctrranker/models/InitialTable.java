package org.ctrranker.models;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ctrranker.models.nn.CtrNetwork;

/**
 * The embedding table as a model of a given shape and seed starts, drawn on the CPU: the base that snapshots'
 * changed rows are relative to ({@link ChangedRows}). A snapshot names its seed, so a model of another seed restores
 * it exactly. Drawn on the CPU whatever device either side runs on; a model on a GPU starts its table from it (the
 * engine draws other numbers there). The last few are kept (a job's scorers and trainer share one): each is the size
 * of the table.
 */
final class InitialTable {

    private static final int KEPT = 2;
    private static final Map<String, InitialTable> CACHE = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, InitialTable> eldest) {
            return size() > KEPT;
        }
    };

    private final float[] values;
    private final long fingerprint;

    private InitialTable(float[] values) {
        this.values = values;
        long h = 1125899906842597L;
        for (float v : values) {
            h = 31 * h + Float.floatToRawIntBits(v);
        }
        this.fingerprint = h;
    }

    float[] values() {
        return values;
    }

    /** A hash of the values: a snapshot carries its writer's, so a reader that draws a different base refuses it. */
    long fingerprint() {
        return fingerprint;
    }

    /** The initial table of models shaped as {@code config} with seed {@code seed}. */
    static InitialTable of(ModelConfig config, long seed) {
        String key = config.shapeKey() + "-seed" + seed;
        synchronized (CACHE) {
            InitialTable cached = CACHE.get(key);
            if (cached != null) {
                return cached;
            }
        }
        InitialTable drawn = draw(config.toBuilder().seed(seed).device("cpu").build());
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(key, k -> drawn);
        }
    }

    private static InitialTable draw(ModelConfig config) {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            CtrNetwork network = new CtrNetwork(config);
            CtrModel.initialize(network, manager, config);
            return new InitialTable(network.embeddingTable().getArray().toFloatArray());
        }
    }
}
