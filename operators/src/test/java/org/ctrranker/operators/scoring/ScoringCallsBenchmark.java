package org.ctrranker.operators.scoring;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.ScoringRequest;

/**
 * Candidates per CPU-second of the scorer's model calls at the job's default model shape, 10 candidates per auction
 * and 1 to 64 auctions per micro-batch: replay-exact calls ({@code CtrModel.scoreBatchInvariant}) against plain
 * {@code CtrModel.score} calls, for users with short histories (0 to 8 clicks, as most users of an ad platform have)
 * and with any (0 to 30, as the generator's users reach). Not a test: run {@code main} with the test classpath
 * (argument: seconds per case, default 3); figures go in the issue note.
 */
public final class ScoringCallsBenchmark {

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final int[] AUCTIONS_PER_BATCH = {1, 2, 5, 20, 64};

    private ScoringCallsBenchmark() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        Map<String, String> settings = new java.util.HashMap<>(AuctionScorerTest.settings(64, 5));
        settings.put("ctr.model.embedding-dim", "16");
        settings.put("ctr.model.hash-buckets", "131072");
        settings.put("ctr.model.hidden-layers", "200,80");
        settings.put("ctr.features.feedback.max-clicks", "30");
        settings.put("ctr.features.feedback.unclicks-per-side", "5");
        try (CtrModel model = CtrModel.create(OnlineConfig.fromSettings(settings).modelConfig())) {
            for (int maxClicks : new int[] {8, 30}) {
                Random random = new Random(3);
                List<ScoringRequest> auctions = new ArrayList<>();
                for (int i = 0; i < 640; i++) {
                    auctions.add(ScoringBatchInvarianceTest.request(random, 10, random.nextInt(maxClicks + 1), 4));
                }
                for (int round = 0; round < 2; round++) { // the first round warms the JIT
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "0 to %d clicks, %s", maxClicks,
                            round == 0 ? "warm-up" : "candidates per CPU-second"));
                    for (int perBatch : AUCTIONS_PER_BATCH) {
                        line.append(String.format(Locale.ROOT, " | %d per batch: plain %.0f, replay-exact %.0f", perBatch,
                                rate(auctions, perBatch, seconds, model::score),
                                rate(auctions, perBatch, seconds, model::scoreBatchInvariant)));
                    }
                    System.out.println(line);
                }
            }
        }
    }

    private static double rate(List<ScoringRequest> auctions, int perBatch, double seconds,
            Function<List<ScoringRequest>, float[][]> score) {
        long candidates = 0;
        long cpuStart = CPU.getCurrentThreadCpuTime();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        int at = 0;
        while (System.nanoTime() < end) {
            List<ScoringRequest> batch = auctions.subList(at, at + perBatch);
            at = (at + perBatch) % (auctions.size() - 64);
            for (float[] scores : score.apply(batch)) {
                candidates += scores.length;
            }
        }
        return candidates / ((CPU.getCurrentThreadCpuTime() - cpuStart) / 1e9);
    }
}
