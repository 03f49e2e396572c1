package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

class VersionRoutingTest {

    @Test
    void everyScorerSubtaskGetsARouteOfItsOwn() {
        for (int maxParallelism : new int[] {128, 4096}) {
            for (int parallelism = 1; parallelism <= 16; parallelism++) {
                Set<String> routes = new HashSet<>();
                for (int subtask = 0; subtask < parallelism; subtask++) {
                    String route = VersionRouting.routeTo(subtask, maxParallelism, parallelism);
                    assertThat(KeyGroupRangeAssignment.assignKeyToParallelOperator(route, maxParallelism, parallelism))
                            .isEqualTo(subtask);
                    routes.add(route);
                }
                assertThat(routes).hasSize(parallelism);
            }
        }
    }
}
