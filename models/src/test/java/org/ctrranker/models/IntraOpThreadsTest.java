package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The test JVM runs with {@code ai.djl.pytorch.num_threads=1}. When MKL runs a thread's matrix product on two cores
 * it starts an OpenMP worker, which takes the thread's name: so a thread that has two native threads of its name
 * after a product ran it on two cores.
 */
class IntraOpThreadsTest {

    private static final ModelConfig CONFIG = CtrModelTest.small().build();
    private static final List<Sample> BATCH = CtrModelTest.samples(new Random(5), 128);

    @Test
    void everyThreadThatCreatesTrainsOrScoresAModelRunsItsProductsOnOneCore() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "threads are counted by name under /proc (Linux)");
        try (CtrModel shared = CtrModel.create(CONFIG)) {
            assumeTrue(threadsAfterAProduct("product-alone", () -> {}) == 2,
                    "MKL runs a fresh thread's product on one core here (one core, or another MKL): nothing to show");

            assertThat(threadsAfterAProduct("model-create", () -> CtrModel.create(CONFIG).close())).isEqualTo(1);
            assertThat(threadsAfterAProduct("model-train", () -> shared.train(BATCH))).isEqualTo(1);
            assertThat(threadsAfterAProduct("model-score", () -> shared.predict(BATCH))).isEqualTo(1);
        }
    }

    /** Native threads named as a new thread, after it ran {@code before} and then a matrix product MKL splits. */
    private static long threadsAfterAProduct(String name, Runnable before) {
        long[] threads = new long[1];
        CtrModelTest.onNewThread(name, () -> {
            before.run();
            try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
                NDArray x = manager.ones(new Shape(128, 100));
                x.matMul(manager.ones(new Shape(100, 32))).toFloatArray();
                x.transpose().matMul(manager.ones(new Shape(128, 32))).toFloatArray();
            }
            threads[0] = threadsNamed(name);
        });
        return threads[0];
    }

    private static long threadsNamed(String name) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(task -> name.equals(comm(task))).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String comm(Path task) {
        try {
            return Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
            return null; // the thread ended
        }
    }
}
