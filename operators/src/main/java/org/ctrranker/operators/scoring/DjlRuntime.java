package org.ctrranker.operators.scoring;

/**
 * DJL settings every scoring and training subtask applies before it first touches the engine. The
 * PyTorch engine (and its native libraries) is loaded once per JVM; each subtask then holds its own
 * model. Settings already given on the command line (-D) win.
 */
final class DjlRuntime {

    private DjlRuntime() {}

    static synchronized void prepare() {
        // Never contact anything: no telemetry, no downloads (STACK.md).
        System.setProperty("ai.djl.offline", "true");
        // One intra-op and one inter-op thread per subtask: Flink's slots are the unit of parallelism.
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", "1");
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }
}
