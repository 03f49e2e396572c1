package org.ctrranker.models.eval;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.metrics.AucDifference;

/**
 * One evaluation run: the full model, its ablations and the baselines side by side on one data
 * set, online and offline, over one or more seeds; writes the Markdown report and plots.
 */
public final class Evaluation {

    /** Every model the evaluation knows, in report order. */
    public static final List<String> MODELS = List.of("full", "fm", "no-wide", "no-tem4ctr", "no-am2", "no-bcm", "no-aie", "mlp", "lr",
            "popularity");

    private final EvalData data;
    private final ModelConfig base;
    private final List<String> models;
    private final int epochs;
    private final int batchSize;
    private final int seeds;
    private final boolean offline;
    private final double bayesAuc;
    private final PrintStream log;

    /**
     * @param base the full model's config (its switches are the ablation switches of the command)
     * @param bayesAuc the generator's optimum on the test split, NaN for real data
     */
    public Evaluation(EvalData data, ModelConfig base, List<String> models, int epochs, int batchSize, int seeds,
            boolean offline, double bayesAuc, PrintStream log) {
        for (String m : models) {
            if (!MODELS.contains(m)) {
                throw new IllegalArgumentException("model '" + m + "' is unknown: use some of " + String.join(",", MODELS));
            }
        }
        this.data = data;
        this.base = base;
        this.models = models;
        this.epochs = epochs;
        this.batchSize = batchSize;
        this.seeds = seeds;
        this.offline = offline;
        this.bayesAuc = bayesAuc;
        this.log = log;
    }

    private Supplier<Learner> learner(String model, long seed) {
        ModelConfig.Builder b = base.toBuilder().seed(seed);
        return switch (model) {
            case "full" -> () -> new ModelLearner(model, b.build(), batchSize);
            case "fm" -> () -> new ModelLearner(model, b.fm(true).build(), batchSize);
            case "no-wide" -> () -> new ModelLearner(model, b.wideBuckets(0).build(), batchSize);
            case "no-tem4ctr" -> () -> new ModelLearner(model, b.tem4ctr(false).build(), batchSize);
            case "no-am2" -> () -> new ModelLearner(model, b.am2(false).build(), batchSize);
            case "no-bcm" -> () -> new ModelLearner(model, b.bcm(false).build(), batchSize);
            case "no-aie" -> () -> new ModelLearner(model, b.am2(false).bcm(false).build(), batchSize);
            case "mlp" -> () -> new ModelLearner(model, b.fm(false).wideBuckets(0).tem4ctr(false).am2(false).bcm(false).build(), batchSize);
            case "lr" -> () -> new LogisticRegression(0.05);
            case "popularity" -> ItemPopularity::new;
            default -> throw new IllegalArgumentException(model);
        };
    }

    /** Per model and mode: the results of every seed. */
    public Map<String, List<Evaluator.Result>> run() {
        Map<String, List<Evaluator.Result>> results = new LinkedHashMap<>();
        for (String model : models) {
            for (int s = 0; s < seeds; s++) {
                long seed = base.seed() + s;
                try (Learner l = learner(model, seed).get()) {
                    add(results, model + "/online", Evaluator.online(l, data));
                }
                if (offline && !model.equals("popularity")) {
                    try (Learner l = learner(model, seed).get()) {
                        add(results, model + "/offline", Evaluator.offline(l, data, epochs, seed));
                    }
                }
            }
        }
        if (offline && models.contains("popularity")) {
            // popularity offline: counts frozen at the end of the train split
            try (Learner l = new ItemPopularity()) {
                add(results, "popularity/offline", Evaluator.offline(l, data, 1, base.seed()));
            }
        }
        return results;
    }

    private void add(Map<String, List<Evaluator.Result>> results, String key, Evaluator.Result r) {
        results.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
        log.printf(Locale.ROOT, "%-12s %-7s auc %.4f logloss %.4f (%.0f s)%n", r.model(), r.mode(), r.auc(), r.logloss(), r.seconds());
    }

    static double mean(List<Evaluator.Result> rs, boolean auc) {
        return rs.stream().mapToDouble(r -> auc ? r.auc() : r.logloss()).average().orElse(Double.NaN);
    }

    static double sd(List<Evaluator.Result> rs, boolean auc) {
        double m = mean(rs, auc);
        if (rs.size() < 2) {
            return 0;
        }
        double s = rs.stream().mapToDouble(r -> Math.pow((auc ? r.auc() : r.logloss()) - m, 2)).sum();
        return Math.sqrt(s / (rs.size() - 1));
    }

    /** Writes report.md and the plots into {@code folder}; returns the headline JSON line. */
    public String report(Map<String, List<Evaluator.Result>> results, Path folder, String command, Map<String, Object> extra)
            throws IOException {
        Files.createDirectories(folder);
        StringBuilder md = new StringBuilder();
        md.append("# Evaluation: ").append(data.name()).append("\n\n");
        md.append("Command: `").append(command).append("`\n\n");
        int testSamples = data.samples() - data.firstTestSample();
        md.append(String.format(Locale.ROOT, "Samples: %,d (%,d requests); test split: %,d samples from request %,d. "
                + "Seeds: %d. Offline: %d epoch(s) over the train split, frozen on the test split. Online: one pass over the "
                + "whole stream, each request scored before the model learns from it; metrics on the same test split.%n%n",
                data.samples(), data.groups().size(), testSamples, data.testFrom(), seeds, epochs));
        md.append("Full model: `").append(base).append("`\n\n");
        if (!Double.isNaN(bayesAuc)) {
            md.append(String.format(Locale.ROOT, "Bayes-optimal AUC (the generator's true CTR) on the test split: **%.4f**%n%n", bayesAuc));
        }
        for (Map.Entry<String, Object> e : extra.entrySet()) {
            md.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        }
        md.append("\n| model | online AUC | online logloss | offline AUC | offline logloss | online AUC, whole stream | seconds (online + offline) |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        StringBuilder json = new StringBuilder("{\"data\":\"").append(data.name()).append("\"");
        if (!Double.isNaN(bayesAuc)) {
            json.append(String.format(Locale.ROOT, ",\"bayes_auc\":%.4f", bayesAuc));
        }
        for (Map.Entry<String, Object> e : extra.entrySet()) {
            json.append(",\"").append(e.getKey()).append("\":").append(e.getValue() instanceof Number ? e.getValue()
                    : "\"" + e.getValue() + "\"");
        }
        json.append(",\"models\":{");
        boolean first = true;
        for (String model : models) {
            List<Evaluator.Result> on = results.getOrDefault(model + "/online", List.of());
            List<Evaluator.Result> off = results.getOrDefault(model + "/offline", List.of());
            double seconds = on.stream().mapToDouble(Evaluator.Result::seconds).sum()
                    + off.stream().mapToDouble(Evaluator.Result::seconds).sum();
            md.append("| ").append(model).append(" | ").append(cell(on, true)).append(" | ").append(cell(on, false))
                    .append(" | ").append(cell(off, true)).append(" | ").append(cell(off, false)).append(" | ")
                    .append(on.isEmpty() ? "" : String.format(Locale.ROOT, "%.4f",
                            on.stream().mapToDouble(Evaluator.Result::streamAuc).average().orElse(Double.NaN)))
                    .append(" | ").append(String.format(Locale.ROOT, "%.0f", seconds)).append(" |\n");
            json.append(first ? "" : ",").append('"').append(model).append("\":{");
            json.append(String.format(Locale.ROOT, "\"auc\":%s,\"logloss\":%s", num(mean(on, true)), num(mean(on, false))));
            if (seeds > 1) {
                json.append(String.format(Locale.ROOT, ",\"auc_sd\":%s", num(sd(on, true))));
            }
            if (!off.isEmpty()) {
                json.append(String.format(Locale.ROOT, ",\"offline_auc\":%s,\"offline_logloss\":%s", num(mean(off, true)),
                        num(mean(off, false))));
                if (seeds > 1) {
                    json.append(String.format(Locale.ROOT, ",\"offline_auc_sd\":%s", num(sd(off, true))));
                }
            }
            json.append('}');
            first = false;
        }
        json.append('}');
        md.append("\nAUC and logloss are on the test split; with several seeds, mean ± standard deviation.\n\n");
        margins(results, md, json);
        json.append('}');
        plots(results, folder, md);
        Files.writeString(folder.resolve("report.md"), md.toString(), StandardCharsets.UTF_8);
        Files.writeString(folder.resolve("summary.json"), json + "\n", StandardCharsets.UTF_8);
        return json.toString();
    }

    /**
     * The full model's online AUC against every other result (and the Bayes-optimal AUC when known), each
     * with a 95% interval from a paired bootstrap over the test requests: a margin of 0.02 on MIND's
     * 1,500 test clicks is about three standard errors, so the report says which margins are measured.
     * With several seeds, the first seed's predictions.
     */
    private void margins(Map<String, List<Evaluator.Result>> results, StringBuilder md, StringBuilder json) {
        List<Evaluator.Result> fullOnline = results.getOrDefault("full/online", List.of());
        if (fullOnline.isEmpty()) {
            return;
        }
        Evaluator.Result full = fullOnline.get(0);
        if (Double.isNaN(full.auc())) {
            md.append("No margins: the test split has no clicks (or only clicks), so it has no AUC.\n\n");
            return;
        }
        int[] requests = testRequests();
        double[] fullScores = Evaluator.doubles(full.testPredictions());
        md.append(String.format(Locale.ROOT, "Margins of the full model's online AUC (test split, %s; 95%% interval: "
                + "%,d paired bootstrap resamples of the %,d test requests):%n%n| full online minus | difference | 95%% interval |%n"
                + "|---|---|---|%n", seeds > 1 ? "first seed" : "seed " + base.seed(), AucDifference.DEFAULT_REPLICATES,
                data.groups().size() - data.testFrom()));
        json.append(",\"full_online_minus\":{");
        boolean first = true;
        for (Map.Entry<String, List<Evaluator.Result>> e : results.entrySet()) {
            if (e.getKey().equals("full/online")) {
                continue;
            }
            AucDifference.Interval d = AucDifference.of(fullScores, Evaluator.doubles(e.getValue().get(0).testPredictions()),
                    full.testLabels(), requests, AucDifference.DEFAULT_REPLICATES, base.seed());
            md.append(String.format(Locale.ROOT, "| %s | %+.4f | [%+.4f, %+.4f] |%n", e.getKey(), d.estimate(), d.low(), d.high()));
            json.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(interval(d));
            first = false;
        }
        json.append('}');
        if (!Double.isNaN(bayesAuc)) {
            double[] truth = java.util.Arrays.copyOfRange(data.trueCtr(), data.firstTestSample(), data.samples());
            AucDifference.Interval gap = AucDifference.of(truth, fullScores, full.testLabels(), requests,
                    AucDifference.DEFAULT_REPLICATES, base.seed());
            md.append(String.format(Locale.ROOT, "| (Bayes-optimal, as the gap: Bayes minus full online) | %.4f | [%.4f, %.4f] |%n",
                    gap.estimate(), gap.low(), gap.high()));
            json.append(",\"bayes_minus_full_online\":").append(interval(gap));
        }
        md.append('\n');
    }

    /** Per test sample, the index of its request. */
    private int[] testRequests() {
        int[] out = new int[data.samples() - data.firstTestSample()];
        int at = 0;
        for (int g = data.testFrom(); g < data.groups().size(); g++) {
            for (int i = 0; i < data.groups().get(g).size(); i++) {
                out[at++] = g;
            }
        }
        return out;
    }

    private static String interval(AucDifference.Interval d) {
        return String.format(Locale.ROOT, "{\"d\":%s,\"ci95\":[%s,%s]}", num(d.estimate()), num(d.low()), num(d.high()));
    }

    private void plots(Map<String, List<Evaluator.Result>> results, Path folder, StringBuilder md) throws IOException {
        Map<String, double[]> auc = new LinkedHashMap<>();
        Map<String, double[]> logloss = new LinkedHashMap<>();
        for (String model : models) {
            List<Evaluator.Result> on = results.getOrDefault(model + "/online", List.of());
            if (!on.isEmpty()) {
                auc.put(model, on.get(0).chunkAuc());
                logloss.put(model, on.get(0).chunkLogloss());
            }
        }
        Plots.lines(folder.resolve("auc-over-stream.png"), "Online AUC over the stream (" + data.name() + ")",
                "stream slice (1/" + Evaluator.CHUNKS + " of the samples each)", "AUC", Plots.indexed(auc), false);
        Plots.lines(folder.resolve("logloss-over-stream.png"), "Online logloss over the stream (" + data.name() + ")",
                "stream slice", "logloss", Plots.indexed(logloss), false);
        Map<String, double[][]> calibration = new LinkedHashMap<>();
        for (String model : models) {
            List<Evaluator.Result> on = results.getOrDefault(model + "/online", List.of());
            if (!on.isEmpty() && (model.equals("full") || model.equals("lr") || model.equals("popularity"))) {
                calibration.put(model + " online", Evaluator.calibration(on.get(0).testPredictions(), on.get(0).testLabels()));
            }
        }
        Plots.lines(folder.resolve("calibration.png"), "Calibration on the test split (10 equal-count bins)",
                "mean predicted CTR", "observed CTR", calibration, true);
        md.append("![AUC over the stream](auc-over-stream.png)\n\n![logloss over the stream](logloss-over-stream.png)\n\n")
                .append("![calibration](calibration.png)\n");
    }

    private String cell(List<Evaluator.Result> rs, boolean auc) {
        if (rs.isEmpty()) {
            return "";
        }
        return rs.size() == 1 ? String.format(Locale.ROOT, "%.4f", mean(rs, auc))
                : String.format(Locale.ROOT, "%.4f ± %.4f", mean(rs, auc), sd(rs, auc));
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }
}
