package org.ctrranker.operators.scoring;

import org.ctrranker.operators.features.ItemTick;

/**
 * A live model version, or an ad's counts at the end of a tick, addressed to one scorer subtask: {@link #route} is a
 * key that Flink's key groups send to that subtask. A Flink POJO (public fields, no-arg constructor).
 */
public final class RoutedVersion {

    public String route;
    /** Null when this carries {@link #itemTick}. */
    public ModelUpdate update;
    public ItemTick itemTick;

    public RoutedVersion() {}

    public RoutedVersion(String route, ModelUpdate update) {
        this.route = route;
        this.update = update;
    }

    public RoutedVersion(String route, ItemTick itemTick) {
        this.route = route;
        this.itemTick = itemTick;
    }
}
