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
 * The nice values this JVM's threads ran at while it watched, by thread name as the kernel holds it (the first
 * 15 characters), read from {@code /proc/self/task} every 100 ms: which stages of a job in the mini cluster
 * yielded the cores. Linux only; elsewhere it sees nothing.
 */
public final class ThreadNiceValues implements AutoCloseable {

    private final Map<String, Set<Integer>> seen = new ConcurrentHashMap<>();
    private final Thread watcher;
    private volatile boolean stopped;

    public ThreadNiceValues() {
        watcher = new Thread(this::watch, "thread nice values");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** Every nice value seen of the threads whose kernel name starts with {@code prefix}. */
    public Set<Integer> of(String prefix) {
        Set<Integer> values = new TreeSet<>();
        seen.forEach((name, nice) -> {
            if (name.startsWith(prefix)) {
                values.addAll(nice);
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
                        int nice = Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ")[16]);
                        seen.computeIfAbsent(name, n -> ConcurrentHashMap.newKeySet()).add(nice);
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
