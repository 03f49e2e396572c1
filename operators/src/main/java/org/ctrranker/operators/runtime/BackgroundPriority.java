package org.ctrranker.operators.runtime;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets the work with seconds of slack (the trainer, the joins and feature stages, their sources, checkpoint
 * threads, a scorer's loading of the next model version) yield the cores to the scorers and the ranking writer.
 * A stage calls {@link #lower(RuntimeContext)} from {@code open()}: that lowers the CPU priority of its task thread
 * to {@code ctr.runtime.background-nice}, and every thread the task starts afterwards (its checkpoint threads, a
 * source's fetcher) inherits it. The setting is a Linux nice value, or {@code idle}: the SCHED_IDLE policy (nice
 * 19 where it cannot be had), under which a waking scorer always takes the core at once, where at a nice value
 * it does only when the scheduler finds its turn due.
 *
 * <p>Why: the scorers share the machine's cores with everything else of the job, and at every checkpoint and
 * model version the other stages' work came in bursts (snapshots, compression, a version's restore) that held
 * the auctions sent meanwhile 50 to 120 ms (bench e2e at 126 auctions/s on 2 cores). Priority changes only who runs
 * first while the cores are contended; total throughput stays. Lowering one's own priority needs no privilege.
 * Where it cannot be set (not Linux, no libc through JNA) the stage runs at normal priority, logged once.
 */
public final class BackgroundPriority {

    /** The job setting (a global job parameter); absent or 0: normal priority. */
    public static final String SETTING = "ctr.runtime.background-nice";

    /** The level of {@code idle}: below nice 19. */
    public static final int IDLE = 20;

    private static final Logger LOG = LoggerFactory.getLogger(BackgroundPriority.class);
    private static final int PRIO_PROCESS = 0;
    private static final int SCHED_IDLE = 5;
    private static volatile boolean warned;

    private BackgroundPriority() {}

    /** Lowers the calling task thread's priority to the job's {@link #SETTING}, if set. */
    public static void lower(RuntimeContext context) {
        lowerCurrentThread(configured(context.getGlobalJobParameters()));
    }

    /** The level the job's settings (or global job parameters) ask for; 0 when absent. */
    public static int configured(Map<String, String> settings) {
        String value = settings.get(SETTING);
        return value == null || value.isBlank() ? 0 : level(value);
    }

    /** Validates a setting: {@link #IDLE} for {@code idle}, else a nice value from 0 (normal) to 19 (lowest). */
    public static int level(String value) {
        if (value.trim().equals("idle")) {
            return IDLE;
        }
        int nice;
        try {
            nice = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            nice = -1;
        }
        if (nice < 0 || nice > 19) {
            throw new IllegalArgumentException(SETTING + " must be idle or a nice value from 0 (off) to 19, not '"
                    + value + "'");
        }
        return nice;
    }

    /** The setting's text for {@code level}. */
    public static String text(int level) {
        return level == IDLE ? "idle" : Integer.toString(level);
    }

    /**
     * Lowers the calling thread's priority to {@code level}, never raising it (that would need a privilege): its nice
     * value to {@code level} (19 for {@link #IDLE}), and for {@link #IDLE} its policy to SCHED_IDLE. Returns the
     * thread's nice value afterwards, or empty where it cannot be read or set.
     */
    public static OptionalInt lowerCurrentThread(int level) {
        int nice = Math.min(level, 19);
        OptionalInt current = currentThreadNice();
        if (nice <= 0 || current.isEmpty()) {
            return current;
        }
        try {
            int tid = currentThreadId();
            if (current.getAsInt() < nice && LibC.INSTANCE.setpriority(PRIO_PROCESS, tid, nice) != 0) {
                warnOnce("setpriority(" + tid + ", " + nice + ") failed, errno " + Native.getLastError());
            }
            if (level == IDLE && !currentThreadIdle()
                    && LibC.INSTANCE.sched_setscheduler(tid, SCHED_IDLE, new int[] {0}) != 0) {
                warnOnce("sched_setscheduler(" + tid + ", SCHED_IDLE) failed, errno " + Native.getLastError());
            }
        } catch (IOException | LinkageError | RuntimeException e) {
            warnOnce(e.toString());
        }
        return currentThreadNice();
    }

    /** The calling thread's nice value, from {@code /proc/thread-self/stat}; empty off Linux. */
    public static OptionalInt currentThreadNice() {
        return statField(19);
    }

    /** Whether the calling thread runs under SCHED_IDLE; false off Linux. */
    public static boolean currentThreadIdle() {
        OptionalInt policy = statField(41);
        return policy.isPresent() && policy.getAsInt() == SCHED_IDLE;
    }

    /** Field {@code number} (from 1, as proc(5) counts them) of {@code /proc/thread-self/stat}. */
    private static OptionalInt statField(int number) {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            // the command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return OptionalInt.of(Integer.parseInt(fields[number - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    private static int currentThreadId() throws IOException {
        // "<pid>/task/<tid>": Java 17 has no call that gives the kernel's thread id
        Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
        return Integer.parseInt(link.getFileName().toString());
    }

    private static void warnOnce(String why) {
        if (!warned) {
            warned = true;
            LOG.warn("cannot lower the priority of background stages ({}): they run at normal priority; {}=0 turns "
                    + "the attempt off", why, SETTING);
        }
    }

    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int setpriority(int which, int who, int prio);

        int sched_setscheduler(int pid, int policy, int[] param);
    }
}
