package org.ctrranker.operators.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.flink.api.common.accumulators.AccumulatorHelper;
import org.apache.flink.util.OptionalFailure;
import org.junit.jupiter.api.Test;

class LowestWatermarkTest {

    @Test
    void aSubtaskReportsItsLatestWatermarkAndTheJobTheLowestOverSubtasks() {
        LowestWatermark fast = new LowestWatermark();
        LowestWatermark slow = new LowestWatermark();
        fast.add(1_000L);
        fast.add(5_000L);
        slow.add(3_000L);
        assertThat(fast.getLocalValue()).isEqualTo(5_000L);

        Map<String, OptionalFailure<Accumulator<?, ?>>> job = new HashMap<>();
        AccumulatorHelper.mergeInto(job, Map.of("wm", fast));
        AccumulatorHelper.mergeInto(job, Map.of("wm", slow));
        assertThat(job.get("wm").getUnchecked().getLocalValue()).isEqualTo(3_000L);
        assertThat(fast.getLocalValue()).as("merging works on a copy").isEqualTo(5_000L);
    }

    @Test
    void aSubtaskWithoutAWatermarkYetHoldsTheJobsValueAtMinValue() {
        LowestWatermark started = new LowestWatermark();
        started.add(7_000L);
        LowestWatermark waiting = new LowestWatermark();
        Map<String, OptionalFailure<Accumulator<?, ?>>> job = new HashMap<>();
        AccumulatorHelper.mergeInto(job, Map.of("wm", started));
        AccumulatorHelper.mergeInto(job, Map.of("wm", waiting));
        assertThat(job.get("wm").getUnchecked().getLocalValue()).isEqualTo(Long.MIN_VALUE);
        started.resetLocal();
        assertThat(started.getLocalValue()).isEqualTo(Long.MIN_VALUE);
    }
}
