package org.ctrranker.jobs.testing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CPU priorities this JVM's threads ran at while it watched ("nice 10", or "idle" under SCHED_IDLE), by thread
 * name as the kernel holds it (the first 15 characters), read from {@code /proc/self/task} every 100 ms: which stages
 * of a job in the mini cluster yielded the cores. Linux only; elsewhere it sees nothing.
 */
public final class ThreadPriorities implements AutoCloseable {

    private static final int SCHED_IDLE = 5;

    private final Map<String, Set<String>> seen = new ConcurrentHashMap<>();
    private final Thread watcher;
    private volatile boolean stopped;

    public ThreadPriorities() {
        watcher = new Thread(this::watch, "thread priorities");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Every priority seen of the threads whose kernel name starts with {@code prefix}. */
    public Set<String> of(String prefix) {
        Set<String> values = new TreeSet<>();
        seen.forEach((name, priorities) -> {
            if (name.startsWith(prefix)) {
                values.addAll(priorities);
            }
        });
        return values;
    }

    private void watch() {
        while (!stopped) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path task : tasks) {
                    try {
                        String name = Files.readString(task.resolve("comm")).strip();
                        String stat = Files.readString(task.resolve("stat"));
                        // fields after the command name's last ')': nice is field 19 of the line, policy 41
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
                        String priority = Integer.parseInt(fields[38]) == SCHED_IDLE ? "idle" : "nice " + fields[16];
                        seen.computeIfAbsent(name, n -> ConcurrentHashMap.newKeySet()).add(priority);
                    } catch (IOException | RuntimeException e) {
                        // the thread ended between listing and reading
                    }
                }
                Thread.sleep(100);
            } catch (IOException e) {
                return; // no /proc: not Linux
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        watcher.interrupt();
        watcher.join();
    }
}
