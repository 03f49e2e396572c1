package org.ctrranker.jobs.cli;

import java.util.concurrent.Callable;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.EventTimePacer;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.ingest.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Writes a synthetic, deterministic stream of auctions, impressions and clicks to the input topics.",
                "Prints its ground truth as one JSON line at the end (counts, faults, Bayes-optimal AUC)."})
public final class GenerateCommand implements Callable<Integer> {

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed; the same seed gives the same events (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--auctions", defaultValue = "10000", description = "Auctions to generate (default: ${DEFAULT-VALUE}).")
    long auctions;

    @Option(names = "--rate", defaultValue = "200", paramLabel = "PER_SECOND",
            description = "Auctions per second of event time (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--speedup", defaultValue = "0",
            description = "Play event time this many times faster than real time; 0 = as fast as possible (default: ${DEFAULT-VALUE}).")
    double speedup;

    @Option(names = "--window", defaultValue = "30m", paramLabel = "DURATION",
            description = "Attribution window W; clicks after it count as late (e.g. 30m, 90s, 1h; default: ${DEFAULT-VALUE}).")
    String window;

    @Option(names = "--users", defaultValue = "5000", description = "Distinct users (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--candidates", defaultValue = "8", description = "Candidate ads per auction (default: ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--late-rate", defaultValue = "0.02", description = "Share of clicks arriving after W (default: ${DEFAULT-VALUE}).")
    double lateRate;

    @Option(names = "--duplicate-rate", defaultValue = "0.03", description = "Share of clicks sent twice (default: ${DEFAULT-VALUE}).")
    double duplicateRate;

    @Option(names = "--orphan-rate", defaultValue = "0.01", description = "Orphan clicks (no impression) per click (default: ${DEFAULT-VALUE}).")
    double orphanRate;

    @Option(names = "--out-of-order-rate", defaultValue = "0.05",
            description = "Share of records delivered behind later ones (default: ${DEFAULT-VALUE}).")
    double outOfOrderRate;

    @Option(names = "--max-disorder", defaultValue = "3s", paramLabel = "DURATION",
            description = "How far behind an out-of-order record may be delivered (default: ${DEFAULT-VALUE}).")
    String maxDisorder;

    @Option(names = "--malformed-rate", defaultValue = "0.001",
            description = "Malformed records inserted per valid record (default: ${DEFAULT-VALUE}).")
    double malformedRate;

    @Option(names = "--unrendered-rate", defaultValue = "0.02",
            description = "Share of auction winners never shown (default: ${DEFAULT-VALUE}).")
    double unrenderedRate;

    @Option(names = "--no-faults", description = "Turn every fault rate to 0.")
    boolean noFaults;

    @Override
    public Integer call() {
        GeneratorConfig.Builder builder = GeneratorConfig.builder().seed(seed).auctions(auctions)
                .auctionsPerSecond(rate).attributionWindowMs(Durations.parseMillis("--window", window))
                .users(users).candidatesPerAuction(candidates)
                .lateClickRate(lateRate).duplicateClickRate(duplicateRate).orphanClickRate(orphanRate)
                .outOfOrderRate(outOfOrderRate).maxDisorderMs(Durations.parseMillis("--max-disorder", maxDisorder))
                .malformedRate(malformedRate).unrenderedRate(unrenderedRate);
        if (noFaults) {
            builder.noFaults();
        }
        GeneratorConfig config;
        try {
            config = builder.build();
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
        EventTimePacer pacer = new EventTimePacer(speedup);
        ProgressBar progress = new ProgressBar(System.err, "records", 0);
        GroundTruth truth;
        try (KafkaEventWriter writer = KafkaEventWriter.withDefaultTopics(kafka.bootstrapServers())) {
            truth = new SyntheticEventGenerator(config).run(record -> {
                pacer.awaitDue(record.deliveryTimeMs());
                writer.accept(record);
                progress.update(writer.sent());
            });
            writer.flush();
            progress.finish(writer.sent());
        }
        System.out.println(truth.toJson());
        return 0;
    }
}
