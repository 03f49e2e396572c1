package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backward pass reads what the forward pass saved for it, and an array made from Java memory (a constant, an
 * input) is saved by reference: its buffer must stay reachable until the backward pass, or a collection in between
 * frees it under the graph. This happened in the job (stop 46): DJL's number overloads ({@code x.mul(0.5f)}) close
 * the constant they make at once, and a step whose forward and backward pass had a collection between them trained on
 * garbage, from the layers below the CTR head down.
 */
class TrainingStepMemoryTest {

    private static final BufferPoolMXBean DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
            .stream().filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();

    /** @param options whether the optional parts (FM, a cross network) are in the graph too */
    @ParameterizedTest(name = "options {0}")
    @ValueSource(booleans = {false, true})
    void aCollectionBetweenTheForwardAndTheBackwardPassChangesNoGradient(boolean options) {
        List<Sample> data = CtrModelTest.samples(new Random(5), 3 * 64);
        ModelConfig config = CtrModelTest.small().fm(options).crossLayers(options ? 2 : 0).am2(true).build();
        long[] freed = new long[1];
        try (CtrModel plain = CtrModel.create(config); CtrModel collected = CtrModel.create(config)) {
            collected.beforeBackward(() -> freed[0] += collectDirectBuffers());
            for (int i = 0; i < 3; i++) {
                List<Sample> batch = data.subList(i * 64, (i + 1) * 64);
                assertThat(collected.train(batch)).isEqualTo(plain.train(batch));
            }
            assertThat(freed[0]).as("direct buffers freed between the passes").isPositive();
            assertThat(collected.checkpoint()).isEqualTo(plain.checkpoint());
        }
    }

    /** A full collection, then waits until the direct buffers it found unreachable are freed; returns how many. */
    private static long collectDirectBuffers() {
        long before = DIRECT.getCount();
        System.gc();
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        long last = before;
        int unchanged = 0;
        // the collector hands unreachable buffers to the reference handler thread, which frees them in its own time
        while (unchanged < 5 && System.nanoTime() < giveUpAt) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            long now = DIRECT.getCount();
            unchanged = now == last && now < before ? unchanged + 1 : 0;
            last = now;
        }
        return before - last;
    }
}
