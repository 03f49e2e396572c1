package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ctrranker.models.DeviceChoice;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.bench.ModelBenchmark;
import org.ctrranker.models.eval.OnlineFeaturizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "model", mixinStandardHelpOptions = true,
        description = {"Benchmarks the full CTR model (the synthetic evaluation's shape, full L x K histories):",
                "candidates/s of the served forward pass at each batch size with 10 candidates per user, with the",
                "per-user TEM4CTR part shared and recomputed per candidate, and training samples/s (the step alone, and",
                "scored first as the job's trainer does: two forward passes or one, taking turns; and scored first on a",
                "batch shaped as the trainer's, each sample its own user with 0 to L clicks and 0 to K unclicks per",
                "click: ragged_predict_then_train). Prints one JSON line;",
                "rates per CPU-second of the scoring thread are given too (wall time is distorted on a loaded machine)."})
public final class BenchModelCommand implements Callable<Integer> {

    @Option(names = "--batches", split = ",", defaultValue = "1,64,256,1024", description = "Candidates per call (default: ${DEFAULT-VALUE}).")
    int[] batches;

    @Option(names = "--train-batch", defaultValue = "256", description = "Training mini-batch (default: ${DEFAULT-VALUE}).")
    int trainBatch;

    @Option(names = "--seconds", defaultValue = "3", description = "Measuring time per case (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() throws Exception {
        checkFlags();
        ModelConfig config = ModelConfig.builder().sparseFields(13).denseFeatures(OnlineFeaturizer.DENSE).scenarioFields(2)
                .device(device).build();
        Map<String, Object> report = new ModelBenchmark(config, seconds).run(batches, trainBatch);
        System.out.println(new ObjectMapper().writeValueAsString(report));
        return 0;
    }

    void checkFlags() {
        if (batches.length == 0 || Arrays.stream(batches).anyMatch(b -> b < 1)) {
            throw new CommandFailure("--batches takes positive candidates per call, e.g. 1,64,256,1024, got "
                    + Arrays.toString(batches));
        }
        if (trainBatch < 1) {
            throw new CommandFailure("--train-batch must be >= 1, got " + trainBatch);
        }
        if (!(seconds > 0)) {
            throw new CommandFailure("--seconds must be > 0, got " + seconds);
        }
        try {
            DeviceChoice.parse(device);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("--device: " + e.getMessage());
        }
    }
}
