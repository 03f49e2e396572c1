package org.ctrranker.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * When the job's checkpoints ran, seen from its checkpoint folder: Flink creates {@code <job>/chk-<n>} when it
 * triggers checkpoint n and writes its {@code _metadata} when the checkpoint completes. The latency report uses
 * these windows to tell the auctions a checkpoint delayed from the rest, so a run shows how much of its tail the
 * checkpoints are, not only that there is one.
 */
final class CheckpointWindows implements AutoCloseable {

    private static final long POLL_MS = 20;

    /**
     * A checkpoint from its trigger to its completion (or the end of watching), wall-clock ms, and the bytes of its
     * folder when it completed (-1: not complete).
     */
    record Window(long triggeredMs, long completedMs, long bytes) {}

    private final Path checkpointDir;
    private final Map<Path, long[]> seen = new LinkedHashMap<>();
    private final Thread poller;
    private volatile boolean stopped;

    private CheckpointWindows(Path checkpointDir) {
        this.checkpointDir = checkpointDir;
        this.poller = new Thread(this::poll, "ctr-bench-checkpoint-windows");
        poller.setDaemon(true);
    }

    /** Starts watching {@code checkpointDir} (the job's {@code ctr.checkpoint.dir}). */
    static CheckpointWindows watch(Path checkpointDir) {
        CheckpointWindows windows = new CheckpointWindows(checkpointDir);
        windows.poller.start();
        return windows;
    }

    private void poll() {
        boolean first = true;
        while (!stopped) {
            long now = System.currentTimeMillis();
            try (Stream<Path> jobs = Files.list(checkpointDir)) {
                for (Path job : jobs.toList()) {
                    try (Stream<Path> checkpoints = Files.list(job)) {
                        for (Path chk : checkpoints.filter(p -> p.getFileName().toString().startsWith("chk-")).toList()) {
                            boolean complete = Files.exists(chk.resolve("_metadata"));
                            // One completed before watching began is no window of this run (trigger: -1).
                            long triggered = first && complete ? -1 : now;
                            synchronized (seen) {
                                // triggered, completed, bytes, when _metadata appeared, its size at the last poll
                                long[] times = seen.computeIfAbsent(chk, p -> new long[] {triggered, -1, -1, -1, -1});
                                if (times[1] < 0 && complete) {
                                    // Flink writes _metadata in place: the checkpoint counts as complete, from when
                                    // the file appeared, once its size holds across two polls, so its bytes are all in
                                    long metadata = chk.resolve("_metadata").toFile().length();
                                    if (times[3] < 0) {
                                        // read after the file was seen, not at the poll's start: never before it existed
                                        times[3] = System.currentTimeMillis();
                                    }
                                    if (metadata > 0 && metadata == times[4]) {
                                        times[1] = times[3];
                                        times[2] = bytesUnder(chk);
                                    }
                                    times[4] = metadata;
                                }
                            }
                        }
                    } catch (IOException e) {
                        // the job's folder went away between the two listings: nothing to see in it
                    }
                }
            } catch (IOException e) {
                // no checkpoint written yet
            }
            first = false;
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The sizes of the files under {@code folder}; -1 when it went away (Flink keeps only the latest checkpoints). */
    private static long bytesUnder(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    /** The checkpoints seen so far; one still running ends now. */
    List<Window> windows() {
        long now = System.currentTimeMillis();
        List<Window> out = new ArrayList<>();
        synchronized (seen) {
            for (long[] times : seen.values()) {
                if (times[0] >= 0) {
                    out.add(new Window(times[0], times[1] < 0 ? now : times[1], times[2]));
                }
            }
        }
        return out;
    }

    /** Whether an auction sent at {@code sentMs} overlapped a checkpoint, give or take {@code marginMs}. */
    static boolean during(List<Window> windows, long sentMs, long marginMs) {
        for (Window w : windows) {
            if (sentMs >= w.triggeredMs() - marginMs && sentMs <= w.completedMs() + marginMs) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        poller.interrupt();
        poller.join(1_000);
    }
}
