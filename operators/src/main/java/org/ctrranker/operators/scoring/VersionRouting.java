package org.ctrranker.operators.scoring;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.ctrranker.operators.runtime.BackgroundPriority;

/**
 * Runs at the scorers' parallelism, gets every live version and every ad's tick (broadcast) and addresses its copy
 * to the scorer subtask of its own index, to travel there over a keyed edge.
 *
 * <p>Why: Flink aligns every input of an operator that has a broadcast input, so with the versions
 * broadcast to the scorers, an auction channel whose checkpoint barrier had come stayed blocked until the
 * trainer's barrier came down behind its ~10 MB versions: scoring stopped for seconds at every checkpoint.
 * Over a keyed edge the scorer's barriers may overtake (unaligned checkpoints): this operator, whose only
 * input is the versions, is the one that waits.
 */
public final class VersionRouting extends RichMapFunction<RoutedVersion, RoutedVersion> {

    private static final long serialVersionUID = 1L;

    private transient String route;

    @Override
    public void open(OpenContext openContext) {
        BackgroundPriority.lower(getRuntimeContext());
        TaskInfo task = getRuntimeContext().getTaskInfo();
        route = routeTo(task.getIndexOfThisSubtask(), task.getMaxNumberOfParallelSubtasks(),
                task.getNumberOfParallelSubtasks());
    }

    @Override
    public RoutedVersion map(RoutedVersion unrouted) {
        return unrouted.update != null ? new RoutedVersion(route, unrouted.update)
                : new RoutedVersion(route, unrouted.itemTick);
    }

    /** The first key of the form {@code scorer-<n>} that Flink's key groups assign to {@code subtask}. */
    static String routeTo(int subtask, int maxParallelism, int parallelism) {
        for (int n = 0; ; n++) {
            String key = "scorer-" + n;
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, maxParallelism, parallelism) == subtask) {
                return key;
            }
        }
    }
}
