package org.ctrranker.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ctrranker.jobs.cli.CommandFailure;
import org.ctrranker.jobs.parity.MindParity;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.StackOptions;
import org.ctrranker.localenv.WorkDirs;
import org.ctrranker.models.eval.DataSets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "parity", mixinStandardHelpOptions = true,
        description = {"Does the job's trainer agree with 'evaluate'? Starts its own stack (Kafka, Redis; stopped at the end),",
                "replays MIND behaviors through the job (bounded run) and prints, over evaluate's test split, the job",
                "trainer's progressive AUC, evaluate's online AUC on the job's samples in the job's protocol (same model,",
                "same data), their difference, and evaluate's AUC with its own MIND features and the job's model settings.",
                "The last line is one JSON object."})
public final class BenchParityCommand implements Callable<Integer> {

    @Option(names = "--behaviors", paramLabel = "FILE",
            description = "MIND behaviors.tsv (news.tsv beside it); default: ../shared/data/mind-small/behaviors.tsv beside the checkout.")
    Path behaviors;

    @Option(names = "--split-at", defaultValue = "2019-11-13", description = "Test split from this date, UTC (default: ${DEFAULT-VALUE}).")
    String splitAt;

    @Option(names = "--rows", defaultValue = "0", description = "Use only the first N rows of the file (0: all; default: ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--own-features", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also run evaluate with its own MIND features (default: on).")
    boolean ownFeatures;

    @Option(names = "--ablations", description = "Also measure on evaluate's side what two differences cost: training on the "
            + "replayed history clicks, and the dense features (about twice as long).")
    boolean ablations;

    @Option(names = "--parallelism", defaultValue = "2", description = "The job's parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one job setting (repeatable), e.g. ctr.model.learning-rate=0.002 (default here: MIND's "
            + DataSets.MIND_LEARNING_RATE + ", as in evaluate).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Path file = behaviors != null ? behaviors
                : Path.of(System.getProperty("ctr.root", ".")).resolve("../shared/data/mind-small/behaviors.tsv").normalize();
        if (rows < 0 || parallelism < 1) {
            throw new CommandFailure("--rows must be >= 0 (0: all) and --parallelism >= 1, got " + rows + " and " + parallelism);
        }
        if (!Files.isReadable(file)) {
            throw new CommandFailure("cannot read " + file + ": give --behaviors PATH/behaviors.tsv (MIND)");
        }
        long testFrom;
        try {
            testFrom = DataSets.startOf(splitAt);
        } catch (RuntimeException e) {
            throw new CommandFailure("--split-at " + splitAt + " is not a date: use yyyy-MM-dd");
        }
        Path work = Files.createTempDirectory("ctr-bench-parity");
        try {
            Path input = rows > 0 ? prefix(file, rows, work.resolve("data")) : file;
            try (LocalStack stack = LocalStack.start(StackOptions.builder().workDir(work.resolve("stack")).build())) {
                Map<String, String> settings = new LinkedHashMap<>();
                settings.put("ctr.model.learning-rate", DataSets.MIND_LEARNING_RATE);
                settings.putAll(overrides);
                settings.put("ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap());
                settings.put("ctr.redis.url", stack.endpoints().redisUrl());
                Map<String, Object> result = MindParity.run(List.of(input), testFrom, settings, parallelism, ownFeatures,
                        ablations, System.err);
                System.out.println(new ObjectMapper().writeValueAsString(result));
            }
        } finally {
            WorkDirs.deleteRecursively(work);
        }
        return 0;
    }

    /** The first {@code n} rows in a temporary folder, news.tsv linked beside them (never copied into the checkout). */
    static Path prefix(Path file, int n, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Path out = dir.resolve("behaviors.tsv");
        Files.write(out, lines.subList(0, Math.min(n, lines.size())), StandardCharsets.UTF_8);
        Path news = file.resolveSibling("news.tsv");
        if (Files.exists(news)) {
            Files.createSymbolicLink(dir.resolve("news.tsv"), news.toAbsolutePath());
        }
        return out;
    }
}
