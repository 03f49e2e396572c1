package org.ctrranker.operators.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
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
            Thread started = new Thread(() -> child.set(BackgroundPriority.currentThreadNice()));
            started.start();
            try {
                started.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
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
    void theSettingIsANiceValueFromZeroToNineteen() {
        assertThat(BackgroundPriority.configured(Map.of())).isZero();
        assertThat(BackgroundPriority.configured(Map.of(BackgroundPriority.SETTING, " 12 "))).isEqualTo(12);
        for (String bad : new String[] {"20", "-1", "low"}) {
            assertThatThrownBy(() -> BackgroundPriority.configured(Map.of(BackgroundPriority.SETTING, bad)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(BackgroundPriority.SETTING).hasMessageContaining("0 (off) to 19");
        }
    }
}
