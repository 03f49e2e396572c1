package org.ctrranker.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns candidates and histories into the network's input arrays. Histories are deduplicated by
 * identity, so every candidate of one auction points at one user row (the shared per-user part).
 * Batches can be padded to a fixed size (repeats of the first row, scored and dropped).
 */
final class BatchEncoder {

    private final ModelConfig config;
    /** Scratch for {@link #lookedUpRows}: all false between calls. */
    private boolean[] seen;

    BatchEncoder(ModelConfig config) {
        this.config = config;
    }

    /** The encoded, not yet native, arrays of one batch. */
    static final class Encoded {
        int n;
        int users;
        long[] sparse;
        float[] dense;
        long[] position;
        long[] userIndex;
        long[] clicks;
        long[] unclicks;
        /** History length and slots of this batch: the longest history in it, rounded up to a power of two. */
        int historyLength;
        int slots;
        long[] scenario;
    }

    /**
     * @param share true to compute each distinct history once; false gives every candidate its own
     *     user row (the baseline the shared path is measured against)
     * @param padTo at least candidates.size(); padded rows repeat row 0
     */
    Encoded encode(List<Features> candidates, List<UserHistory> histories, boolean share, int padTo) {
        return encode(candidates, histories, share, padTo, 0);
    }

    /**
     * @param minHistoryLength history arrays of at least this many clicks (at most L); 0 or 1: trimmed to the batch's
     *     histories only
     */
    Encoded encode(List<Features> candidates, List<UserHistory> histories, boolean share, int padTo, int minHistoryLength) {
        int f = config.sparseFields();
        int denseWidth = Math.max(1, config.denseFeatures());
        int l = config.historyLength();
        int k = config.slotsPerClick();
        int buckets = config.hashBuckets();
        int n = candidates.size();
        Encoded e = new Encoded();
        e.n = padTo;
        e.sparse = new long[padTo * f];
        e.dense = new float[padTo * denseWidth];
        e.position = new long[padTo];
        e.userIndex = new long[padTo];
        Map<UserHistory, Integer> rows = new IdentityHashMap<>();
        int[] userOf = new int[n];
        int users = 0;
        for (int i = 0; i < n; i++) {
            UserHistory h = histories.get(i);
            Integer row = share ? rows.get(h) : null;
            if (row == null) {
                row = users++;
                if (share) {
                    rows.put(h, row);
                }
            }
            userOf[i] = row;
        }
        e.users = users;
        // Trim the history arrays to what this batch needs: most users have short histories, and the
        // L x K attention is the model's main cost. Powers of two keep the set of shapes small.
        int longest = 1;
        int widest = 2;
        if (config.tem4ctr()) {
            for (int i = 0; i < n; i++) {
                UserHistory h = histories.get(i);
                longest = Math.max(longest, Math.min(l, h.size()));
                for (int c = Math.max(0, h.size() - l); c < h.size(); c++) {
                    widest = Math.max(widest, Math.min(k, h.aligned(c).length));
                }
            }
        }
        e.historyLength = Math.min(l, Math.max(minHistoryLength, ceilPowerOfTwo(longest)));
        e.slots = Math.min(k, ceilPowerOfTwo(widest));
        e.clicks = new long[users * e.historyLength];
        e.unclicks = new long[users * e.historyLength * e.slots];
        boolean[] written = new boolean[users];
        for (int i = 0; i < padTo; i++) {
            int src = i < n ? i : 0;
            Features x = candidates.get(src);
            if (x.ids().length != f) {
                throw new IllegalArgumentException("a candidate has " + x.ids().length + " sparse ids, the model expects " + f);
            }
            for (int j = 0; j < f; j++) {
                e.sparse[i * f + j] = FeatureHash.bucket(x.ids()[j], buckets);
            }
            if (config.denseFeatures() > 0) {
                if (x.dense().length != config.denseFeatures()) {
                    throw new IllegalArgumentException("a candidate has " + x.dense().length + " dense features, the model expects "
                            + config.denseFeatures());
                }
                System.arraycopy(x.dense(), 0, e.dense, i * denseWidth, denseWidth);
            }
            e.position[i] = Math.max(0, Math.min(config.positions(), x.position()));
            int user = userOf[src];
            e.userIndex[i] = user;
            if (!written[user]) {
                written[user] = true;
                writeHistory(histories.get(src), user, e);
            }
        }
        return e;
    }

    private static int ceilPowerOfTwo(int x) {
        return x <= 1 ? 1 : Integer.highestOneBit(x - 1) << 1;
    }

    /**
     * The latest L clicks, oldest first and padded after the newest; each click's first K aligned unclicks. Padding
     * at the end keeps each click at the same slot whatever the array's length, so a longer array only adds
     * masked slots after the real ones (what keeps {@code CtrModel.scoreBatchInvariant} invariant).
     */
    private void writeHistory(UserHistory h, int user, Encoded e) {
        if (!config.tem4ctr()) {
            return;
        }
        int l = e.historyLength;
        int k = e.slots;
        int buckets = config.hashBuckets();
        int kept = Math.min(l, h.size());
        for (int c = 0; c < kept; c++) {
            int source = h.size() - kept + c;
            int slot = c;
            e.clicks[user * l + slot] = FeatureHash.bucket(h.click(source), buckets);
            long[] aligned = h.aligned(source);
            for (int j = 0; j < Math.min(k, aligned.length); j++) {
                e.unclicks[(user * l + slot) * k + j] = FeatureHash.bucket(aligned[j], buckets);
            }
        }
    }

    void encodeScenario(Encoded e, List<Sample> samples) {
        int s = config.scenarioFields();
        e.scenario = new long[e.n * s];
        for (int i = 0; i < e.n; i++) {
            long[] ids = samples.get(Math.min(i, samples.size() - 1)).scenario();
            for (int j = 0; j < s; j++) {
                e.scenario[i * s + j] = j < ids.length ? FeatureHash.bucket(ids[j], config.hashBuckets()) : 0;
            }
        }
    }

    /**
     * The embedding table's rows that {@code e} looks up (its ids, histories and scenario), ascending and each once:
     * the only rows a training step on it gives a gradient.
     */
    long[] lookedUpRows(Encoded e) {
        if (seen == null) {
            seen = new boolean[config.hashBuckets()];
        }
        long[] rows = new long[Math.min(config.hashBuckets(), e.sparse.length + e.clicks.length + e.unclicks.length
                + (e.scenario == null ? 0 : e.scenario.length))];
        int count = mark(e.sparse, rows, 0);
        count = mark(e.clicks, rows, count);
        count = mark(e.unclicks, rows, count);
        if (e.scenario != null) {
            count = mark(e.scenario, rows, count);
        }
        long[] distinct = Arrays.copyOf(rows, count);
        Arrays.sort(distinct);
        for (long row : distinct) {
            seen[(int) row] = false;
        }
        return distinct;
    }

    private int mark(long[] buckets, long[] rows, int count) {
        for (long b : buckets) {
            if (!seen[(int) b]) {
                seen[(int) b] = true;
                rows[count++] = b;
            }
        }
        return count;
    }

    NDList toArrays(NDManager manager, Encoded e) {
        NDList list = new NDList(
                manager.create(e.sparse, new Shape(e.n, config.sparseFields())),
                manager.create(e.dense, new Shape(e.n, Math.max(1, config.denseFeatures()))),
                manager.create(e.position, new Shape(e.n)),
                manager.create(e.userIndex, new Shape(e.n)),
                manager.create(e.clicks, new Shape(e.users, e.historyLength)),
                manager.create(e.unclicks, new Shape(e.users, e.historyLength, e.slots)));
        if (e.scenario != null) {
            list.add(manager.create(e.scenario, new Shape(e.n, config.scenarioFields())));
        }
        return list;
    }

    static NDArray floats(NDManager manager, float[] values) {
        return manager.create(values, new Shape(values.length));
    }
}
