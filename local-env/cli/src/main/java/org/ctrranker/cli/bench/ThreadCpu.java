package org.ctrranker.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Where the machine's cores went over an interval: the CPU time of every thread of a few processes (the job's JVM,
 * the broker, Redis), from Linux's {@code /proc/<pid>/task/<tid>/stat}. The job shares a small machine with its
 * stack, so the latency report needs more than percentiles: which work (the scorers, the trainer, the JIT compiler,
 * the collector, the checkpoint threads) held the cores while the tail formed. Threads are grouped by their kernel
 * name (15 characters at most) without its trailing number: both scorer subtasks are one group, all
 * {@code AsyncOperations} threads another. A thread that ended within the interval is not counted (its entry is
 * gone). Empty where {@code /proc} is missing (not Linux).
 */
final class ThreadCpu {

    /** Clock ticks per second of {@code utime}/{@code stime}: USER_HZ, 100 on every Linux architecture Java runs on. */
    static final double TICKS_PER_SECOND = 100;

    private static final Path PROC = Path.of("/proc");

    /** CPU ticks per process label and thread group at one moment. */
    record Sample(long atNanos, Map<String, Map<String, Long>> ticks) {}

    private ThreadCpu() {}

    /**
     * Reads every thread of each process tree in {@code roots} (label to pid: the process and its descendants that
     * are not in another label's tree); a process that is gone or unreadable is left out.
     */
    static Sample take(Map<String, Long> roots) {
        Map<String, Map<String, Long>> ticks = new LinkedHashMap<>();
        for (Map.Entry<String, List<Long>> process : trees(roots).entrySet()) {
            Map<String, Long> groups = new TreeMap<>();
            boolean readable = false;
            for (long pid : process.getValue()) {
                try (Stream<Path> tasks = Files.list(PROC.resolve(Long.toString(pid)).resolve("task"))) {
                    readable = true;
                    for (Path task : (Iterable<Path>) tasks::iterator) {
                        try {
                            ThreadTicks thread = parseStat(Files.readString(task.resolve("stat")));
                            groups.merge(group(thread.name()), thread.ticks(), Long::sum);
                        } catch (IOException | RuntimeException e) {
                            // the thread ended between the listing and the read
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            }
            if (readable) {
                ticks.put(process.getKey(), groups);
            }
        }
        return new Sample(System.nanoTime(), ticks);
    }

    /** Each root with its descendants; a process counts under the innermost root above it (the broker is the job's child). */
    private static Map<String, List<Long>> trees(Map<String, Long> roots) {
        Map<String, Set<Long>> trees = new LinkedHashMap<>();
        for (Map.Entry<String, Long> root : roots.entrySet()) {
            Set<Long> tree = new LinkedHashSet<>();
            tree.add(root.getValue());
            ProcessHandle.of(root.getValue()).ifPresent(p -> p.descendants().forEach(d -> tree.add(d.pid())));
            trees.put(root.getKey(), tree);
        }
        Map<String, List<Long>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Set<Long>> tree : trees.entrySet()) {
            List<Long> own = new ArrayList<>();
            for (long pid : tree.getValue()) {
                boolean underInnerRoot = trees.entrySet().stream().anyMatch(inner -> inner != tree
                        && inner.getValue().contains(pid) && tree.getValue().contains(roots.get(inner.getKey())));
                if (!underInnerRoot) {
                    own.add(pid);
                }
            }
            out.put(tree.getKey(), own);
        }
        return out;
    }

    /**
     * Samples {@code roots} every {@code periodMs} on a thread of its own until {@link #stop}: the whole interval says
     * what the cores did on average, the busiest periods what they did while a burst lasted (a version published, a
     * checkpoint written), which is where a latency tail forms.
     */
    static final class Recorder {

        private final Map<String, Long> roots;
        private final List<Sample> samples = new ArrayList<>();
        private final Thread poller;
        private volatile boolean stopped;

        private Recorder(Map<String, Long> roots, long periodMs) {
            this.roots = roots;
            this.samples.add(take(roots));
            this.poller = new Thread(() -> {
                while (!stopped) {
                    try {
                        Thread.sleep(periodMs);
                    } catch (InterruptedException e) {
                        return;
                    }
                    Sample sample = take(roots);
                    synchronized (samples) {
                        samples.add(sample);
                    }
                }
            }, "ctr-bench-thread-cpu");
            poller.setDaemon(true);
        }

        static Recorder start(Map<String, Long> roots, long periodMs) {
            Recorder recorder = new Recorder(roots, periodMs);
            recorder.poller.start();
            return recorder;
        }

        /** Ends the recording with a last sample. */
        void stop() throws InterruptedException {
            stopped = true;
            poller.interrupt();
            poller.join();
            Sample last = take(roots);
            synchronized (samples) {
                samples.add(last);
            }
        }

        /**
         * Over the whole recording, {@link #between}; and its {@code busiest} busiest periods (most cores used by all
         * processes together), each with when it began (s from the start) and its five busiest thread groups.
         */
        Map<String, Object> report(int topGroups, int busiest) {
            List<Sample> all;
            synchronized (samples) {
                all = List.copyOf(samples);
            }
            Map<String, Object> out = between(all.get(0), all.get(all.size() - 1), topGroups);
            List<Map<String, Object>> periods = new ArrayList<>();
            for (int i = 1; i < all.size(); i++) {
                periods.add(period(all.get(0), all.get(i - 1), all.get(i)));
            }
            periods.sort(Comparator.comparingDouble((Map<String, Object> m) -> (double) m.get("cores")).reversed());
            out.put("busiest_periods", periods.subList(0, Math.min(busiest, periods.size())));
            return out;
        }

        private static Map<String, Object> period(Sample start, Sample from, Sample to) {
            double seconds = (to.atNanos() - from.atNanos()) / 1e9;
            Map<String, Long> used = new TreeMap<>();
            to.ticks().forEach((label, groups) -> used(from.ticks().getOrDefault(label, Map.of()), groups)
                    .forEach((group, ticks) -> used.put(label + ": " + group, ticks)));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("at_s", round((from.atNanos() - start.atNanos()) / 1e9));
            out.put("seconds", round(seconds));
            out.put("cores", cores(total(used), seconds));
            out.put("thread_groups", busiest(used, 5, seconds));
            return out;
        }
    }

    /** One thread's kernel name and its user plus system CPU ticks. */
    record ThreadTicks(String name, long ticks) {}

    /**
     * Parses a {@code stat} line: {@code tid (name) state ...}, utime and stime its 14th and 15th fields. The name may
     * hold spaces and parentheses, so it ends at the last closing one.
     */
    static ThreadTicks parseStat(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) {
            throw new IllegalArgumentException("not a /proc stat line: " + stat);
        }
        String[] fields = stat.substring(close + 2).trim().split(" ");
        return new ThreadTicks(stat.substring(open + 1, close), Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
    }

    /** The thread's group: its name without its trailing number and separators ("GC Thread#1" is "GC Thread"). */
    static String group(String threadName) {
        String name = threadName.replaceAll("[\\s#\\-_:(/0-9]+$", "");
        return name.isEmpty() ? threadName : name;
    }

    /**
     * The cores each process used between two samples (CPU seconds per wall-clock second), and for each process its
     * {@code topGroups} busiest thread groups, busiest first.
     */
    static Map<String, Object> between(Sample before, Sample after, int topGroups) {
        double seconds = (after.atNanos() - before.atNanos()) / 1e9;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seconds", round(seconds));
        if (seconds <= 0) {
            return out;
        }
        Map<String, Object> processes = new LinkedHashMap<>();
        Map<String, Object> threads = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Long>> process : after.ticks().entrySet()) {
            Map<String, Long> used = used(before.ticks().getOrDefault(process.getKey(), Map.of()), process.getValue());
            processes.put(process.getKey(), cores(total(used), seconds));
            threads.put(process.getKey(), busiest(used, topGroups, seconds));
        }
        out.put("cores_by_process", processes);
        out.put("cores_by_thread_group", threads);
        return out;
    }

    /** Ticks each group used from {@code was} to {@code now}, groups that used none left out. */
    private static Map<String, Long> used(Map<String, Long> was, Map<String, Long> now) {
        Map<String, Long> used = new TreeMap<>();
        now.forEach((group, ticks) -> {
            // a group's threads may have ended in between: what is left can be lower than before
            long delta = ticks - was.getOrDefault(group, 0L);
            if (delta > 0) {
                used.put(group, delta);
            }
        });
        return used;
    }

    private static long total(Map<String, Long> used) {
        return used.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The {@code top} groups that used the most, busiest first, in cores. */
    private static Map<String, Object> busiest(Map<String, Long> used, int top, double seconds) {
        Map<String, Object> busiest = new LinkedHashMap<>();
        used.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())).limit(top)
                .forEach(g -> busiest.put(g.getKey(), cores(g.getValue(), seconds)));
        return busiest;
    }

    private static double cores(long ticks, double seconds) {
        return round(ticks / TICKS_PER_SECOND / seconds);
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
