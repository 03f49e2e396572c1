package org.ctrranker.localenv;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A server process of the local stack. Attached processes belong to this JVM (and die with it);
 * detached ones run in their own session so that {@code bin/ctr stack up} can return.
 */
final class ManagedProcess {

    private final String name;
    private final long pid;
    private final Path logFile;
    private final Process process;
    /** Where this process's lines begin: a server started again in the same directory appends to its log. */
    private final long logStart;

    private ManagedProcess(String name, long pid, Path logFile, Process process, long logStart) {
        this.name = name;
        this.pid = pid;
        this.logFile = logFile;
        this.process = process;
        this.logStart = logStart;
    }

    static ManagedProcess start(String name, List<String> command, Path logFile, boolean detached,
            Map<String, String> environment) {
        List<String> full = new ArrayList<>();
        if (detached) {
            full.add("setsid");
        }
        full.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().putAll(environment);
        try {
            long logStart = Files.exists(logFile) ? Files.size(logFile) : 0;
            Process process = builder.start();
            return new ManagedProcess(name, process.pid(), logFile, process, logStart);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    /** A detached process found again through its pid (for {@code stack down} from another JVM). */
    static ManagedProcess existing(String name, long pid, Path logFile) {
        return new ManagedProcess(name, pid, logFile, null, 0);
    }

    String name() {
        return name;
    }

    long pid() {
        return pid;
    }

    Path logFile() {
        return logFile;
    }

    boolean isAlive() {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Fails fast with the log's tail when the process has already died. */
    void checkAlive() {
        if (!isAlive()) {
            String message = name + " exited during start-up; last log lines:\n" + logTail(20);
            if (loggedSinceStart(FreePorts.BIND_FAILURE)) {
                throw new FreePorts.PortTakenException(message);
            }
            throw new IllegalStateException(message);
        }
    }

    private boolean loggedSinceStart(String text) {
        try (RandomAccessFile log = new RandomAccessFile(logFile.toFile(), "r")) {
            if (log.length() <= logStart) {
                return false;
            }
            byte[] lines = new byte[(int) Math.min(log.length() - logStart, 16L << 20)];
            log.seek(logStart);
            log.readFully(lines);
            return new String(lines, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGTERM, a grace period for a clean shutdown, then SIGKILL; waits until the process is gone. */
    void stop(Duration grace) {
        ProcessHandle.of(pid).ifPresent(handle -> {
            handle.destroy();
            if (!waitFor(handle, grace)) {
                handle.destroyForcibly();
                waitFor(handle, Duration.ofSeconds(10));
            }
        });
        if (process != null) {
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static boolean waitFor(ProcessHandle handle, Duration timeout) {
        try {
            handle.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return !handle.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !handle.isAlive();
        }
    }

    String logTail(int lines) {
        try {
            if (!Files.exists(logFile)) {
                return "(no log at " + logFile + ")";
            }
            List<String> all = Files.readAllLines(logFile);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }
}
