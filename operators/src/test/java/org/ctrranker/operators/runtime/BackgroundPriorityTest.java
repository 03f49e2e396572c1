package org.ctrranker.operators.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BackgroundPriorityTest {

    @Test
    void aLoweredThreadAndTheThreadsItStartsRunAtTheNiceValueWhileOthersKeepTheirs() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/thread-self/stat")), "Linux only");
        OptionalInt before = BackgroundPriority.currentThreadNice();
        assertThat(before).isPresent();
        assumeTrue(before.getAsInt() < 7, "the test JVM already runs at nice 7 or more");

        AtomicReference<OptionalInt> lowered = new AtomicReference<>();
        AtomicReference<OptionalInt> child = new AtomicReference<>();
        AtomicReference<OptionalInt> notRaisedBack = new AtomicReference<>();
        Thread background = new Thread(() -> {
            lowered.set(BackgroundPriority.lowerCurrentThread(7));
            runToEnd(() -> child.set(BackgroundPriority.currentThreadNice()));
            notRaisedBack.set(BackgroundPriority.lowerCurrentThread(3));
        });
        background.start();
        background.join();

        assertThat(lowered.get()).hasValue(7);
        assertThat(child.get()).as("inherited by a thread it starts").hasValue(7);
        assertThat(notRaisedBack.get()).as("a lower value never raises the priority again").hasValue(7);
        assertThat(BackgroundPriority.currentThreadNice()).as("the calling thread only").isEqualTo(before);
    }

    @Test
    void anIdleThreadAndTheThreadsItStartsRunUnderSchedIdleAtNiceNineteen() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/thread-self/stat")), "Linux only");
        assumeTrue(!BackgroundPriority.currentThreadIdle(), "the test JVM already runs under SCHED_IDLE");

        AtomicReference<OptionalInt> nice = new AtomicReference<>();
        AtomicBoolean idle = new AtomicBoolean();
        AtomicBoolean childIdle = new AtomicBoolean();
        Thread background = new Thread(() -> {
            nice.set(BackgroundPriority.lowerCurrentThread(BackgroundPriority.IDLE));
            idle.set(BackgroundPriority.currentThreadIdle());
            runToEnd(() -> childIdle.set(BackgroundPriority.currentThreadIdle()));
        });
        background.start();
        background.join();

        assertThat(nice.get()).as("nice 19 where SCHED_IDLE cannot be had").hasValue(19);
        assertThat(idle).as("the lowered thread").isTrue();
        assertThat(childIdle).as("inherited by a thread it starts").isTrue();
        assertThat(BackgroundPriority.currentThreadIdle()).as("the calling thread only").isFalse();
    }

    @Test
    void theSettingIsIdleOrANiceValueFromZeroToNineteen() {
        assertThat(BackgroundPriority.configured(Map.of())).isZero();
        assertThat(BackgroundPriority.configured(Map.of(BackgroundPriority.SETTING, " 12 "))).isEqualTo(12);
        assertThat(BackgroundPriority.configured(Map.of(BackgroundPriority.SETTING, "idle")))
                .isEqualTo(BackgroundPriority.IDLE);
        assertThat(BackgroundPriority.text(BackgroundPriority.IDLE)).isEqualTo("idle");
        assertThat(BackgroundPriority.text(12)).isEqualTo("12");
        for (String bad : new String[] {"20", "-1", "low"}) {
            assertThatThrownBy(() -> BackgroundPriority.configured(Map.of(BackgroundPriority.SETTING, bad)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(BackgroundPriority.SETTING).hasMessageContaining("idle or a nice value")
                    .hasMessageContaining("0 (off) to 19");
        }
    }

    /** Runs {@code task} on a thread the caller starts, and waits for it. */
    private static void runToEnd(Runnable task) {
        Thread started = new Thread(task);
        started.start();
        try {
            started.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
