package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The model versions a scorer may still need, with the event time from which each may be used: an
 * auction at {@code t} takes the highest version whose record time is at most {@code t - lag}. Version
 * 0 (the seeded initial model, no update) holds until a version is due. Pruned on the watermark: of
 * the versions due by then only the highest is kept, with every later one, so the list stays a few
 * entries long.
 */
final class ModelVersions {

    /** One version and the event time (ms) from which it is due; a Flink POJO, kept in operator state. */
    public static final class Due {
        public long dueFromMs;
        public ModelUpdate update;

        public Due() {}

        Due(long dueFromMs, ModelUpdate update) {
            this.dueFromMs = dueFromMs;
            this.update = update;
        }

        long dueFromMs() { return dueFromMs; }
        ModelUpdate update() { return update; }
    }

    private final List<Due> versions = new ArrayList<>();

    /** Adds a version (a replayed one replaces itself). */
    void add(long timestampMs, ModelUpdate update) {
        versions.removeIf(d -> d.update().version == update.version);
        versions.add(new Due(timestampMs, update));
    }

    /** The version for an auction whose inputs are fixed at {@code asOfMs}; null for version 0. */
    ModelUpdate at(long asOfMs) {
        ModelUpdate best = null;
        for (Due d : versions) {
            if (d.dueFromMs() <= asOfMs && (best == null || d.update().version > best.version)) {
                best = d.update();
            }
        }
        return best;
    }

    /** Drops the versions no auction at or after {@code asOfMs} can take. */
    void pruneBefore(long asOfMs) {
        ModelUpdate kept = at(asOfMs);
        if (kept != null) {
            versions.removeIf(d -> d.dueFromMs() <= asOfMs && d.update() != kept);
        }
    }

    /** Drops the versions {@code drop} says to. */
    void removeIf(java.util.function.Predicate<ModelUpdate> drop) {
        versions.removeIf(d -> drop.test(d.update()));
    }

    /** The highest version held, if any. */
    Optional<ModelUpdate> newest() {
        return versions.stream().map(Due::update).max(java.util.Comparator.comparingLong(u -> u.version));
    }

    List<Due> all() {
        return List.copyOf(versions);
    }

    /**
     * The union of the subtasks' lists, one entry per version: every subtask receives every version, but at an
     * unaligned checkpoint one may still be in flight to some of them (it comes again from the channel state).
     */
    static ModelVersions of(Iterable<Due> restored) {
        ModelVersions v = new ModelVersions();
        restored.forEach(d -> v.add(d.dueFromMs(), d.update()));
        return v;
    }
}
