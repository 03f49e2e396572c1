package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A long run of train and score calls leaves no native arrays behind and does not grow the process. */
class NativeMemoryTest {

    @Test
    void noGrowthOverALongRun() throws IOException {
        Random random = new Random(1);
        List<Sample> batch = CtrModelTest.samples(random, 200);
        List<ScoringRequest> requests = new ArrayList<>();
        for (int r = 0; r < 20; r++) {
            List<Features> candidates = new ArrayList<>();
            for (int c = 0; c < 10; c++) {
                candidates.add(batch.get(r * 10 + c).features());
            }
            requests.add(new ScoringRequest(batch.get(r).history(), candidates));
        }
        try (CtrModel model = CtrModel.create(CtrModelTest.small().build())) {
            model.warmUp();
            for (int i = 0; i < 50; i++) {
                model.train(batch);
                model.score(requests);
            }
            long arrays = model.liveArrays();
            long[] resident = new long[12];
            for (int sample = 0; sample < resident.length; sample++) {
                for (int i = 0; i < 30; i++) {
                    model.train(batch);
                    model.score(requests);
                    model.predict(batch.subList(0, 1));
                }
                model.restore(model.snapshot());
                resident[sample] = residentKb();
            }
            assertThat(model.liveArrays()).as("arrays alive in the model's scope").isEqualTo(arrays);
            // A batch's arrays left in the model's scope show in the count above. RSS catches native memory
            // outside DJL's bookkeeping: it moves by tens of MB with GC and malloc caching, the minimum over
            // a window of samples does not; 150 rounds lie between the windows, so a leak above ~270 kB
            // per round (the size of this batch's embedding gradients) fails.
            long early = Math.min(Math.min(resident[0], resident[1]), Math.min(resident[2], resident[3]));
            long late = Math.min(Math.min(resident[8], resident[9]), Math.min(resident[10], resident[11]));
            assertThat(late - early).as("native growth in kB, samples " + java.util.Arrays.toString(resident))
                    .isLessThan(40 * 1024);
        }
    }

    /** Resident memory outside the Java heap: RSS less the committed heap, after a GC. */
    private static long residentKb() throws IOException {
        System.gc();
        long heapKb = Runtime.getRuntime().totalMemory() / 1024;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) - heapKb;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
