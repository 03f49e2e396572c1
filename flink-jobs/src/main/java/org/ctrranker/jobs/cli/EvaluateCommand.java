package org.ctrranker.jobs.cli;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ctrranker.jobs.generate.SyntheticLog;
import org.ctrranker.models.DeviceChoice;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.eval.DataSets;
import org.ctrranker.models.eval.EvalData;
import org.ctrranker.models.eval.Evaluation;
import org.ctrranker.models.eval.Evaluator;
import org.ctrranker.models.eval.LoggedAuction;
import org.ctrranker.models.eval.MarketPriceCheck;
import org.ctrranker.models.eval.OnlineFeaturizer;
import org.ctrranker.models.metrics.Auc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Trains and evaluates the CTR model, its ablations and baselines (logistic regression, plain MLP,",
                "online item popularity) on a data set, offline (epochs over the train split) and online (one pass,",
                "predict then train), and writes a report (Markdown + PNG plots) to a folder it prints.",
                "The last line is one JSON object with the headline numbers."})
public final class EvaluateCommand implements Callable<Integer> {

    @Option(names = "--format", required = true, description = "synthetic, mind, ipinyou-fm or ipinyou-log.")
    String format;

    @Option(names = "--train", arity = "1..*", paramLabel = "FILE", description = "Train files (or the whole log with --split-at).")
    List<Path> train = new ArrayList<>();

    @Option(names = "--test", arity = "1..*", paramLabel = "FILE", description = "Test files.")
    List<Path> test = new ArrayList<>();

    @Option(names = "--split-at", paramLabel = "DATE", description = "mind: requests from this date (UTC, yyyy-MM-dd) on form the test split.")
    String splitAt;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the models and of the synthetic data (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--seeds", defaultValue = "1", description = "Repeat every model with this many seeds and report mean ± sd (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--auctions", defaultValue = "200000", description = "synthetic: auctions to generate (default: ${DEFAULT-VALUE}).")
    long auctions;

    @Option(names = "--users", defaultValue = "5000",
            description = "synthetic: distinct users; fewer users, more impressions each to learn their taste from (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--test-fraction", defaultValue = "0.2", description = "synthetic: the last share of auctions used as the test split (default: ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(names = "--models", split = ",", description = "Models to run, of " + "full,fm,no-wide,no-tem4ctr,no-am2,no-bcm,no-aie,mlp,lr,popularity "
            + "(default: all; no-am2/no-bcm/no-aie only where the data has market prices/bids).")
    List<String> models;

    @Option(names = "--tem4ctr", negatable = true, defaultValue = "true", fallbackValue = "true", description = "TEM4CTR in the full model (default: on).")
    boolean tem4ctr;

    @Option(names = "--wide", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "The wide part (a weight per id, AdaGrad per sample) in the full model (default: on).")
    boolean wide;

    @Option(names = "--wide-learning-rate", defaultValue = "0.01", description = "AdaGrad learning rate of the wide part (default: ${DEFAULT-VALUE}).")
    float wideLearningRate;

    @Option(names = "--am2", negatable = true, defaultValue = "true", fallbackValue = "true", description = "AM2 market-price head in training (default: on).")
    boolean am2;

    @Option(names = "--bcm", negatable = true, defaultValue = "true", fallbackValue = "true", description = "BCM bid-weighted loss (default: on).")
    boolean bcm;

    @Option(names = "--dense-features", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = {"The evaluator's dense request-time features (item CTR so far and recent, age, request size,",
                "popularity share, user fatigue); --no-dense-features: ids and history only, as the job's model today (default: on)."})
    boolean denseFeatures;

    @Option(names = "--offline", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Also run the offline mode (default: on).")
    boolean offline;

    @Option(names = "--epochs", defaultValue = "2", description = "Offline epochs over the train split (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "256", description = "Training mini-batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--learning-rate", description = "Adam learning rate (default: 0.0003 for mind, chosen on a"
            + " validation day inside its train split; 0.002 otherwise).")
    Float learningRate;

    /** The model's Adam rate where a data set has none of its own: the job's default too. */
    static final float LEARNING_RATE = 0.002f;
    static final float MIND_LEARNING_RATE = Float.parseFloat(DataSets.MIND_LEARNING_RATE);

    @Option(names = "--lambda", defaultValue = "0.1", description = "Weight of the AM2 loss (default: ${DEFAULT-VALUE}).")
    float lambda;

    @Option(names = "--history", defaultValue = "30", description = "TEM4CTR clicks kept, L (default: ${DEFAULT-VALUE}).")
    int history;

    @Option(names = "--slots", defaultValue = "10", description = "TEM4CTR aligned unclicks per click, K (default: ${DEFAULT-VALUE}).")
    int slots;

    @Option(names = "--embedding-dim", defaultValue = "16", description = "Embedding width d (default: ${DEFAULT-VALUE}).")
    int embeddingDim;

    @Option(names = "--hash-buckets", defaultValue = "" + ModelConfig.DEFAULT_HASH_BUCKETS, description = "Rows of the hashed embedding table (default: ${DEFAULT-VALUE}, the job's).")
    int hashBuckets;

    @Option(names = "--wide-buckets", defaultValue = "" + ModelConfig.DEFAULT_WIDE_BUCKETS,
            description = "Hashed weights of the wide part (default: ${DEFAULT-VALUE}, the job's).")
    int wideBuckets;

    @Option(names = "--hidden", split = ",", defaultValue = "200,80", description = "MLP widths (default: ${DEFAULT-VALUE}).")
    int[] hidden;

    @Option(names = "--cross-layers", defaultValue = "0", description = "Cross-network layers beside the MLP (default: ${DEFAULT-VALUE}).")
    int crossLayers;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--out", paramLabel = "DIR", description = "Report folder (default: <ctr home>/reports/evaluate-FORMAT-TIME).")
    Path out;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        checkFlags();
        List<LoggedAuction> log = load();
        EvalData data = OnlineFeaturizer.build(format, log, history, slots, denseFeatures);
        boolean hasAuctionFields = format.equals("synthetic") || format.equals("ipinyou-log");
        List<String> chosen = models != null ? models : Evaluation.MODELS.stream()
                .filter(m -> hasAuctionFields || !(m.equals("no-am2") || m.equals("no-bcm") || m.equals("no-aie"))).toList();
        ModelConfig config = ModelConfig.builder().sparseFields(data.sparseFields()).denseFeatures(data.denseFeatures())
                .scenarioFields(data.scenarioFields()).targetField(1).embeddingDim(embeddingDim).hashBuckets(hashBuckets).historyLength(history)
                .slotsPerClick(slots).hiddenLayers(hidden).crossLayers(crossLayers)
                .wideBuckets(wide ? wideBuckets : 0).wideLearningRate(wideLearningRate).tem4ctr(tem4ctr).am2(am2).bcm(bcm)
                .am2Lambda(lambda).learningRate(learningRate()).seed(seed).device(device).build();
        double bayes = Double.NaN;
        if (format.equals("synthetic")) {
            int from = data.firstTestSample();
            double[] truth = java.util.Arrays.copyOfRange(data.trueCtr(), from, data.samples());
            int[] labels = new int[truth.length];
            int at = 0;
            for (int g = data.testFrom(); g < data.groups().size(); g++) {
                for (var s : data.groups().get(g)) {
                    labels[at++] = s.label();
                }
            }
            bayes = Auc.of(truth, labels);
        }
        System.err.printf("ctr evaluate: %s, %,d samples in %,d requests, test from request %,d%n", format, data.samples(),
                data.groups().size(), data.testFrom());
        Evaluation evaluation = new Evaluation(data, config, chosen, epochs, batchSize, seeds, offline, bayes, System.err);
        Map<String, List<Evaluator.Result>> results = evaluation.run();
        Map<String, Object> extra = new LinkedHashMap<>();
        if (format.equals("ipinyou-log") && am2) {
            extra.putAll(MarketPriceCheck.run(data, config, Math.max(epochs, 3), batchSize, seed));
            System.err.println("market price: " + extra);
        }
        extra.put("seconds", Math.round((System.nanoTime() - started) / 1e9));
        Path folder = out != null ? out : Path.of(System.getProperty("ctr.home", ".ctr"), "reports",
                "evaluate-" + format + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        String json = evaluation.report(results, folder, "bin/ctr evaluate " + String.join(" ", commandLine()), extra);
        System.out.println("report: " + folder.toAbsolutePath().normalize().resolve("report.md"));
        System.out.println(json);
        return 0;
    }

    /** Before any data is read: a bad number is a one-line message naming the flag, not a stack trace later. */
    void checkFlags() {
        require(learningRate == null || learningRate > 0, "--learning-rate must be > 0, got " + learningRate);
        require(wideLearningRate > 0, "--wide-learning-rate must be > 0, got " + wideLearningRate
                + " (--no-wide leaves the wide part out)");
        require(lambda >= 0, "--lambda must be >= 0, got " + lambda + " (--no-am2 leaves the AM2 head out)");
        require(history >= 1, "--history must be >= 1, got " + history);
        require(slots >= 2 && slots % 2 == 0, "--slots must be an even number >= 2, got " + slots);
        require(embeddingDim >= 1, "--embedding-dim must be >= 1, got " + embeddingDim);
        require(hashBuckets >= 16, "--hash-buckets must be >= 16, got " + hashBuckets);
        require(!wide || wideBuckets >= 16, "--wide-buckets must be >= 16, got " + wideBuckets + " (--no-wide leaves the wide part out)");
        require(Arrays.stream(hidden).allMatch(w -> w >= 1),
                "--hidden takes positive widths, e.g. 200,80, got " + Arrays.toString(hidden));
        require(crossLayers >= 0, "--cross-layers must be >= 0, got " + crossLayers);
        require(batchSize >= 1, "--batch-size must be >= 1, got " + batchSize);
        require(seeds >= 1, "--seeds must be >= 1, got " + seeds);
        require(!offline || epochs >= 1, "--epochs must be >= 1 for the offline mode, got " + epochs + " (or --no-offline)");
        require(auctions >= 1, "--auctions must be >= 1, got " + auctions);
        require(users >= 1, "--users must be >= 1, got " + users);
        require(testFraction > 0 && testFraction < 1, "--test-fraction must be between 0 and 1, got " + testFraction);
        try {
            DeviceChoice.parse(device);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("--device: " + e.getMessage());
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new CommandFailure(message);
        }
    }

    float learningRate() {
        return learningRate != null ? learningRate : format.equals("mind") ? MIND_LEARNING_RATE : LEARNING_RATE;
    }

    private List<String> commandLine() {
        List<String> args = new ArrayList<>(List.of("--format", format));
        if (!train.isEmpty()) {
            args.add("--train");
            train.forEach(p -> args.add(p.toString()));
        }
        if (!test.isEmpty()) {
            args.add("--test");
            test.forEach(p -> args.add(p.toString()));
        }
        if (splitAt != null) {
            args.add("--split-at " + splitAt);
        }
        args.add("--seed " + seed);
        args.add("--learning-rate " + new BigDecimal(Float.toString(learningRate())).stripTrailingZeros().toPlainString());
        if (!denseFeatures) {
            args.add("--no-dense-features");
        }
        return args;
    }

    private List<LoggedAuction> load() throws Exception {
        for (Path p : train) {
            if (!Files.isRegularFile(p)) {
                throw new CommandFailure("--train " + p + " is not a file");
            }
        }
        for (Path p : test) {
            if (!Files.isRegularFile(p)) {
                throw new CommandFailure("--test " + p + " is not a file");
            }
        }
        return switch (format) {
            case "synthetic" -> SyntheticLog.generate(seed, auctions, users, testFraction);
            case "mind" -> {
                if (train.isEmpty() || splitAt == null) {
                    throw new CommandFailure("--format mind needs --train behaviors.tsv and --split-at yyyy-MM-dd");
                }
                List<Path> files = new ArrayList<>(train);
                files.addAll(test);
                yield DataSets.mind(files, DataSets.startOf(splitAt));
            }
            case "ipinyou-fm", "ipinyou-log" -> {
                if (train.isEmpty() || test.isEmpty()) {
                    throw new CommandFailure("--format " + format + " needs --train FILE... and --test FILE...");
                }
                yield format.equals("ipinyou-fm") ? DataSets.ipinyouFm(train, test) : DataSets.ipinyouLog(train, test);
            }
            default -> throw new CommandFailure("--format '" + format + "' is unknown: use synthetic, mind, ipinyou-fm or ipinyou-log");
        };
    }
}
