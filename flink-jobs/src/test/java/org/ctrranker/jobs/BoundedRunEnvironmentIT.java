package org.ctrranker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.IntMaximum;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded run with restarts finishes even when a task never reacts to cancelling: the TaskManager's
 * watchdog kills the TaskManager that holds it, and the job restarts on the spare one.
 */
class BoundedRunEnvironmentIT {

    private static final long ELEMENTS = 1_000;

    /** Shared by the subtasks, which run in this JVM's mini cluster. */
    private static volatile boolean stuck;
    private static volatile boolean released;

    @AfterEach
    void releaseTheStuckTask() {
        released = true;
    }

    /** Without the spare TaskManager the restart waits for a slot until Flink's 300 s slot request timeout. */
    @Test
    @Timeout(120)
    void aTaskThatIgnoresCancellingCostsItsTaskManagerNotTheRun() throws Exception {
        stuck = false;
        released = false;
        StreamExecutionEnvironment env = BoundedRun.environment(2, 2, Duration.ofSeconds(5));
        env.fromSequence(1, ELEMENTS).rebalance().map(new StuckWhenCancelledOnFirstAttempt()).sinkTo(new DiscardingSink<>());

        long started = System.nanoTime();
        JobExecutionResult result = env.execute("bounded-run-environment-it");
        System.out.printf("bounded run environment IT: finished in %.1f s%n", (System.nanoTime() - started) / 1e9);

        assertThat(stuck).as("one subtask ignored cancelling").isTrue();
        assertThat((Integer) result.getAccumulatorResult("attempt")).as("restarted").isPositive();
        assertThat((Long) result.getAccumulatorResult("sum")).as("every element, once")
                .isEqualTo(ELEMENTS * (ELEMENTS + 1) / 2);
    }

    /**
     * On the first attempt subtask 1 stops at its first element and ignores interrupts; subtask 0 then fails,
     * so Flink cancels subtask 1, which never returns while the test runs.
     */
    private static final class StuckWhenCancelledOnFirstAttempt extends RichMapFunction<Long, Long> {
        private transient LongCounter sum;
        private transient boolean firstAttempt;

        @Override
        public void open(OpenContext context) {
            sum = getRuntimeContext().getLongCounter("sum");
            int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            getRuntimeContext().addAccumulator("attempt", new IntMaximum(attempt));
            firstAttempt = attempt == 0;
        }

        @Override
        public Long map(Long value) {
            if (firstAttempt) {
                if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 1) {
                    stuck = true;
                    while (!released) {
                        Thread.interrupted();
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                    }
                } else {
                    while (!stuck) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                    }
                    throw new IllegalStateException("injected failure while subtask 1 is stuck");
                }
            }
            sum.add(value);
            return value;
        }
    }
}
