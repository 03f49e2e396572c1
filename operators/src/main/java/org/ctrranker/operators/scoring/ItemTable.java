package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.operators.features.ItemTick;

/**
 * The ads' counts a scorer may still need: an auction whose inputs are fixed at {@code t} takes, per candidate, the
 * newest tick of its ad at or before {@code t}, as the item statistics stage stamps the auction's training samples.
 * Pruned on the watermark as {@link ModelVersions} is: per ad, the newest tick due by then stays, with every later one.
 */
final class ItemTable {

    /** Per ad, its ticks in ascending order of {@code asOfMs}. */
    private final Map<String, List<ItemTick>> ticks = new HashMap<>();
    /** Ads holding more than one tick: the only ones a prune can shorten. */
    private final Set<String> prunable = new HashSet<>();

    /** Adds a tick (one for the same ad and time replaces it: a replayed one). */
    void add(ItemTick tick) {
        List<ItemTick> ad = ticks.computeIfAbsent(tick.adId, id -> new ArrayList<>(2));
        int at = ad.size();
        while (at > 0 && ad.get(at - 1).asOfMs >= tick.asOfMs) {
            at--;
        }
        if (at < ad.size() && ad.get(at).asOfMs == tick.asOfMs) {
            ad.set(at, tick);
        } else {
            ad.add(at, tick);
        }
        if (ad.size() > 1) {
            prunable.add(tick.adId);
        }
    }

    /** The ad's counts at the newest tick at or before {@code asOfMs}; null if it has none. */
    ItemCounts at(String adId, long asOfMs) {
        List<ItemTick> ad = ticks.get(adId);
        if (ad == null) {
            return null;
        }
        for (int i = ad.size() - 1; i >= 0; i--) {
            if (ad.get(i).asOfMs <= asOfMs) {
                return ad.get(i).counts();
            }
        }
        return null;
    }

    /** Drops the ticks no auction with inputs fixed at or after {@code asOfMs} can take. */
    void pruneBefore(long asOfMs) {
        for (var it = prunable.iterator(); it.hasNext(); ) {
            List<ItemTick> ad = ticks.get(it.next());
            int newestDue = -1;
            for (int i = 0; i < ad.size() && ad.get(i).asOfMs <= asOfMs; i++) {
                newestDue = i;
            }
            if (newestDue > 0) {
                ad.subList(0, newestDue).clear();
            }
            if (ad.size() <= 1) {
                it.remove();
            }
        }
    }

    /** Forgets the ads whose newest tick is at or before {@code before}: the stage has forgotten them too. */
    void expireBefore(long before) {
        ticks.values().removeIf(ad -> ad.get(ad.size() - 1).asOfMs <= before);
        prunable.retainAll(ticks.keySet());
    }

    int ads() {
        return ticks.size();
    }

    List<ItemTick> all() {
        List<ItemTick> all = new ArrayList<>();
        ticks.values().forEach(all::addAll);
        return all;
    }

    /** The union of the subtasks' tables (each subtask holds every tick; a replayed one replaces itself). */
    static ItemTable of(Iterable<ItemTick> restored) {
        ItemTable table = new ItemTable();
        restored.forEach(table::add);
        return table;
    }
}
