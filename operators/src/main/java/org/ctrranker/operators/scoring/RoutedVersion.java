package org.ctrranker.operators.scoring;

/**
 * A live model version addressed to one scorer subtask: {@link #route} is a key that Flink's key groups send
 * to that subtask. A Flink POJO (public fields, no-arg constructor).
 */
public final class RoutedVersion {

    public String route;
    public ModelUpdate update;

    public RoutedVersion() {}

    public RoutedVersion(String route, ModelUpdate update) {
        this.route = route;
        this.update = update;
    }
}
