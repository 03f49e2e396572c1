package org.ctrranker.models.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.Features;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.Sample;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;

/**
 * Throughput of the full model on this machine: candidates/s of the served forward pass at fixed
 * batch sizes with 10 candidates per user, with the per-user TEM4CTR part shared or recomputed per
 * candidate, and training samples/s (also on a batch shaped as the job's trainer's). Reports wall-clock
 * rates and rates per CPU-second of the calling thread (PyTorch runs on it with num_threads=1), since
 * wall time on a shared machine lies.
 */
public final class ModelBenchmark {

    public static final int CANDIDATES_PER_USER = 10;
    private final ModelConfig config;
    private final double seconds;

    public ModelBenchmark(ModelConfig config, double secondsPerCase) {
        this.config = config;
        this.seconds = secondsPerCase;
    }

    /** A full history (L clicks with K aligned unclicks each): the worst case the model serves. */
    private UserHistory history(Random random) {
        int l = config.historyLength();
        long[] clicks = new long[l];
        long[][] aligned = new long[l][config.slotsPerClick()];
        for (int i = 0; i < l; i++) {
            clicks[i] = random.nextLong();
            for (int j = 0; j < aligned[i].length; j++) {
                aligned[i][j] = random.nextLong();
            }
        }
        return new UserHistory(clicks, aligned);
    }

    private Features candidate(Random random) {
        long[] ids = new long[config.sparseFields()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextLong();
        }
        float[] dense = new float[config.denseFeatures()];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = random.nextFloat();
        }
        return new Features(ids, dense, 0);
    }

    private List<ScoringRequest> requests(Random random, int batch) {
        List<ScoringRequest> out = new ArrayList<>();
        for (int left = batch; left > 0; left -= CANDIDATES_PER_USER) {
            List<Features> candidates = new ArrayList<>();
            for (int c = 0; c < Math.min(CANDIDATES_PER_USER, left); c++) {
                candidates.add(candidate(random));
            }
            out.add(new ScoringRequest(history(random), candidates));
        }
        return out;
    }

    public Map<String, Object> run(int[] batches, int trainBatch) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Random random = new Random(7);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("config", config.toString());
        try (CtrModel model = CtrModel.create(config)) {
            model.warmUp();
            for (int batch : batches) {
                List<ScoringRequest> requests = requests(random, batch);
                for (boolean shared : new boolean[] {true, false}) {
                    model.score(requests, shared);
                    long calls = 0;
                    long cpu0 = threads.getCurrentThreadCpuTime();
                    long t0 = System.nanoTime();
                    while (System.nanoTime() - t0 < seconds * 1e9) {
                        model.score(requests, shared);
                        calls++;
                    }
                    double wall = (System.nanoTime() - t0) / 1e9;
                    double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
                    String key = "b" + batch + (shared ? "_shared" : "_per_candidate");
                    report.put(key + "_candidates_per_s", Math.round(calls * batch / wall));
                    report.put(key + "_candidates_per_cpu_s", Math.round(calls * batch / cpu));
                }
            }
            List<Sample> samples = new ArrayList<>();
            for (ScoringRequest r : requests(random, trainBatch)) {
                for (Features f : r.candidates()) {
                    samples.add(new Sample(f, r.history(), random.nextInt(20) == 0 ? 1 : 0, 1 + random.nextDouble(),
                            random.nextDouble(), new long[] {random.nextLong()}, 1f, false));
                }
            }
            report.put("train_batch", trainBatch);
            Map<String, Runnable> steps = new LinkedHashMap<>();
            steps.put("train", () -> model.train(samples));
            // the job's trainer scores each batch before training on it (progressive validation)
            steps.put("predict_then_train_two_passes", () -> {
                model.predict(samples);
                model.train(samples);
            });
            steps.put("predict_then_train", () -> model.predictThenTrain(samples));
            List<Sample> ragged = raggedSamples(random, samples.size());
            steps.put("ragged_predict_then_train", () -> model.predictThenTrain(ragged));
            measureTraining(report, steps, samples.size());
        }
        return report;
    }

    /**
     * A batch shaped as the job's trainer sees it: each sample its own user, with 0 to L clicks and 0 to K aligned
     * unclicks per click, ids drawn from bounded catalogues (so a batch looks up thousands of rows, not all).
     */
    private List<Sample> raggedSamples(Random random, int n) {
        List<Sample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long[] ids = new long[config.sparseFields()];
            for (int f = 0; f < ids.length; f++) {
                ids[f] = f * 1_000_003L + random.nextInt(1_000);
            }
            float[] dense = new float[config.denseFeatures()];
            for (int j = 0; j < dense.length; j++) {
                dense[j] = random.nextFloat();
            }
            int l = random.nextInt(config.historyLength() + 1);
            long[] clicks = new long[l];
            long[][] aligned = new long[l][];
            for (int c = 0; c < l; c++) {
                clicks[c] = random.nextInt(5_000);
                aligned[c] = new long[random.nextInt(config.slotsPerClick() + 1)];
                for (int k = 0; k < aligned[c].length; k++) {
                    aligned[c][k] = random.nextInt(5_000);
                }
            }
            out.add(new Sample(new Features(ids, dense, 0), new UserHistory(clicks, aligned),
                    random.nextInt(20) == 0 ? 1 : 0, 1 + random.nextDouble(), random.nextDouble(),
                    new long[] {random.nextInt(100)}, 1f, false));
        }
        return out;
    }

    /**
     * Samples per second of each training step, measured in turns of a tenth of the time each, so that a machine
     * whose speed drifts (a shared one) slows every step alike.
     */
    private void measureTraining(Map<String, Object> report, Map<String, Runnable> steps, int batch) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<String, long[]> totals = new LinkedHashMap<>(); // steps, wall ns, CPU ns
        steps.forEach((key, step) -> {
            step.run();
            totals.put(key, new long[3]);
        });
        for (int turn = 0; turn < 10; turn++) {
            for (Map.Entry<String, Runnable> e : steps.entrySet()) {
                long[] total = totals.get(e.getKey());
                long cpu0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < seconds * 1e8) {
                    e.getValue().run();
                    total[0]++;
                }
                total[1] += System.nanoTime() - t0;
                total[2] += threads.getCurrentThreadCpuTime() - cpu0;
            }
        }
        totals.forEach((key, total) -> {
            report.put(key + "_samples_per_s", Math.round(total[0] * batch / (total[1] / 1e9)));
            report.put(key + "_samples_per_cpu_s", Math.round(total[0] * batch / (total[2] / 1e9)));
        });
    }
}
