package org.ctrranker.localenv.flink;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of a local Flink JVM: {@code PID MAIN_CLASS [ARGS...]} runs {@code MAIN_CLASS} (a JobManager or
 * TaskManager entry point) and exits as soon as process {@code PID} is gone, so a test JVM killed without its
 * shutdown hooks never leaves a Flink process behind on a shared machine. The JVM's own pid is still the
 * Flink process's, so a test can SIGKILL exactly that TaskManager.
 */
public final class ParentWatchingMain {

    private ParentWatchingMain() {}

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: ParentWatchingMain PARENT_PID MAIN_CLASS [ARGS...]");
        }
        Optional<ProcessHandle> parent = ProcessHandle.of(Long.parseLong(args[0]));
        if (parent.isEmpty()) {
            System.err.println("parent process " + args[0] + " is already gone; not starting");
            Runtime.getRuntime().halt(3);
        }
        // System.exit runs Flink's shutdown hooks, which stop the process cleanly.
        parent.get().onExit().thenRun(() -> System.exit(0));
        Method main = Class.forName(args[1]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
