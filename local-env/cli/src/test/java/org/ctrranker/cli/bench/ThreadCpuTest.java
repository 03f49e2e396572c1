package org.ctrranker.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ThreadCpuTest {

    @Test
    void readsTheTicksAfterANameWithSpacesAndParentheses() {
        String stat = "4242 (auction (1/2) x) S 1 4242 4242 0 -1 4194368 120 0 0 0 731 269 0 0 20 0 1 0 5 0 0";
        ThreadCpu.ThreadTicks thread = ThreadCpu.parseStat(stat);
        assertThat(thread.name()).isEqualTo("auction (1/2) x");
        assertThat(thread.ticks()).isEqualTo(731 + 269);
        assertThatThrownBy(() -> ThreadCpu.parseStat("no name here")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void groupsThreadsByNameWithoutTheirNumbers() {
        assertThat(ThreadCpu.group("GC Thread#1")).isEqualTo("GC Thread");
        assertThat(ThreadCpu.group("C2 CompilerThre")).isEqualTo("C2 CompilerThre");
        assertThat(ThreadCpu.group("AsyncOperations")).isEqualTo("AsyncOperations");
        assertThat(ThreadCpu.group("kafka-producer-")).isEqualTo("kafka-producer");
        assertThat(ThreadCpu.group("auction scorer ")).isEqualTo("auction scorer");
        assertThat(ThreadCpu.group("G1 Conc#0")).isEqualTo("G1 Conc");
        assertThat(ThreadCpu.group("42")).isEqualTo("42");
    }

    @Test
    void findsTheBusyThreadOfThisJvm() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc");
        Map<String, Long> self = Map.of("self", ProcessHandle.current().pid());
        ThreadCpu.Sample before = ThreadCpu.take(self);
        CountDownLatch spun = new CountDownLatch(1);
        CountDownLatch sampled = new CountDownLatch(1);
        Thread burner = new Thread(() -> {
            long until = System.nanoTime() + 400_000_000L;
            double x = 0;
            while (System.nanoTime() < until) {
                x += Math.sqrt(x + 1);
            }
            spun.countDown();
            try {
                sampled.await(); // alive while sampled: an ended thread's entry leaves /proc
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "cpu-burner-7");
        burner.start();
        spun.await();
        Map<String, Object> used = ThreadCpu.between(before, ThreadCpu.take(self), 50);
        sampled.countDown();
        burner.join();

        @SuppressWarnings("unchecked")
        Map<String, Double> groups = (Map<String, Double>) ((Map<String, Object>) used.get("cores_by_thread_group")).get("self");
        double seconds = (double) used.get("seconds");
        // 0.4 s of spinning: at least 0.1 s of CPU, even on a loaded machine
        assertThat(groups.get("cpu-burner") * seconds).isGreaterThan(0.1);
        @SuppressWarnings("unchecked")
        double process = ((Map<String, Double>) used.get("cores_by_process")).get("self");
        assertThat(process).isGreaterThanOrEqualTo(groups.get("cpu-burner"));
    }

    @Test
    void countsAChildProcessUnderItsOwnLabelOnly() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc");
        Process child = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 30").start();
        try {
            Map<String, Long> roots = new java.util.LinkedHashMap<>();
            roots.put("self", ProcessHandle.current().pid());
            roots.put("child", child.pid());
            ThreadCpu.Recorder recorder = ThreadCpu.Recorder.start(roots, 100);
            Thread.sleep(1_500);
            recorder.stop();
            Map<String, Object> report = recorder.report(5, 2);
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Double>> groups = (Map<String, Map<String, Double>>) report.get("cores_by_thread_group");
            assertThat(groups.get("child")).containsKey("sh");
            assertThat(groups.get("self")).doesNotContainKey("sh");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> busiest = (List<Map<String, Object>>) report.get("busiest_periods");
            assertThat(busiest).hasSize(2);
            assertThat((double) busiest.get(0).get("cores")).isGreaterThanOrEqualTo((double) busiest.get(1).get("cores"));
        } finally {
            child.destroyForcibly().waitFor();
        }
    }

    @Test
    void leavesOutAProcessThatIsGone() {
        ThreadCpu.Sample sample = ThreadCpu.take(Map.of("gone", Long.MAX_VALUE));
        assertThat(sample.ticks()).isEmpty();
    }
}
