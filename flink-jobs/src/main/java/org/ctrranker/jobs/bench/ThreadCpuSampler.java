package org.ctrranker.jobs.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * CPU time per group of threads of this JVM while a job runs. Flink's task threads end with the job,
 * and a dead thread's CPU time can no longer be read, so they are sampled every few milliseconds and
 * the last reading of each thread is kept (the time after a thread's last sample is lost: a few ms).
 */
final class ThreadCpuSampler implements AutoCloseable {

    private static final long PERIOD_MS = 20;

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Function<String, String> groupOfThreadName;
    private final Map<Long, Long> lastCpuNanos = new HashMap<>();
    private final Map<Long, String> groupOfThread = new HashMap<>();
    private final Map<Long, Long> cpuNanosAtStart = new HashMap<>();
    private final Thread sampler;
    private volatile boolean running = true;

    /** @param groupOfThreadName a group for a thread name, or null for threads to ignore */
    ThreadCpuSampler(Function<String, String> groupOfThreadName) {
        this.groupOfThreadName = groupOfThreadName;
        threads.setThreadCpuTimeEnabled(true);
        for (long id : threads.getAllThreadIds()) {
            cpuNanosAtStart.put(id, Math.max(0, threads.getThreadCpuTime(id)));
        }
        sampler = new Thread(this::loop, "bench-thread-cpu-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    private void loop() {
        while (running) {
            sample();
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void sample() {
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            String group = groupOfThreadName.apply(info.getThreadName());
            long cpu = threads.getThreadCpuTime(info.getThreadId());
            if (group != null && cpu >= 0) {
                lastCpuNanos.put(info.getThreadId(), cpu);
                groupOfThread.put(info.getThreadId(), group);
            }
        }
    }

    /** Seconds of CPU per group, over the threads that appeared since this sampler started. */
    synchronized Map<String, Double> cpuSecondsByGroup() {
        Map<String, Double> seconds = new HashMap<>();
        lastCpuNanos.forEach((id, nanos) -> seconds.merge(groupOfThread.get(id),
                (nanos - cpuNanosAtStart.getOrDefault(id, 0L)) / 1e9, Double::sum));
        return seconds;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sampler.join();
        sample();
    }
}
