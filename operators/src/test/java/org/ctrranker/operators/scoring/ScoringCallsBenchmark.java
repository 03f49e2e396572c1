package org.ctrranker.operators.scoring;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.ScoringRequest;

/**
 * Candidates per CPU-second of the scorer's model calls at the job's default model shape, 10 candidates per auction
 * and 1 to 64 auctions per micro-batch: replay-exact calls ({@link InvariantBatches}: calls of
 * {@code ctr.scoring.exact-call-rows} rows, a call per history class) against plain {@code CtrModel.score} calls.
 * Users have short histories (0 to 8 clicks, up to 4 unclicks each), as most users of an ad platform have. Not a
 * test: run {@code main} with the test classpath (arguments: seconds per case, default 3; the exact-call-rows to
 * compare, default 64); figures go in the issue note.
 */
public final class ScoringCallsBenchmark {

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final int[] AUCTIONS_PER_BATCH = {1, 2, 5, 20, 64};

    private ScoringCallsBenchmark() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        String[] callRows = (args.length > 1 ? args[1] : "64").split(",");
        Map<String, String> settings = new java.util.HashMap<>(AuctionScorerTest.settings(64, 5));
        settings.put("ctr.model.embedding-dim", "16");
        settings.put("ctr.model.hash-buckets", "131072");
        settings.put("ctr.model.hidden-layers", "200,80");
        settings.put("ctr.features.feedback.max-clicks", "30");
        settings.put("ctr.features.feedback.unclicks-per-side", "5");
        Random random = new Random(3);
        List<ScoringRequest> auctions = new ArrayList<>();
        for (int i = 0; i < 640; i++) {
            auctions.add(ScoringBatchInvarianceTest.request(random, 10, random.nextInt(9)));
        }
        try (CtrModel model = CtrModel.create(OnlineConfig.fromSettings(settings).modelConfig())) {
            for (int round = 0; round < 2; round++) { // the first round warms the JIT
                StringBuilder line = new StringBuilder(round == 0 ? "warm-up" : "candidates per CPU-second");
                for (int perBatch : AUCTIONS_PER_BATCH) {
                    line.append(String.format(Locale.ROOT, " | %d per batch: plain %.0f", perBatch,
                            rate(auctions, perBatch, seconds, model::score)));
                    for (String rows : callRows) {
                        settings.put("ctr.scoring.exact-call-rows", rows);
                        InvariantBatches exact = new InvariantBatches(OnlineConfig.fromSettings(settings));
                        line.append(String.format(Locale.ROOT, ", exact %s rows %.0f", rows,
                                rate(auctions, perBatch, seconds, batch -> exact.score(model, batch))));
                    }
                }
                System.out.println(line);
            }
        }
    }

    private static double rate(List<ScoringRequest> auctions, int perBatch, double seconds,
            java.util.function.Function<List<ScoringRequest>, float[][]> score) {
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
