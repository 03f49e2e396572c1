package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.FileUtils;
import org.ctrranker.jobs.bench.JoinsBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "joins", mixinStandardHelpOptions = true,
        description = {"Benchmarks the auction-impression join and click attribution: events/s at parallelism 1",
                "with exactly-once checkpoints (incremental on RocksDB), on the heap (hashmap) and RocksDB state backends,",
                "and checkpointed bytes per open impression. Prints one JSON line."})
public final class BenchJoinsCommand implements Callable<Integer> {

    @Option(names = "--auctions", defaultValue = "200000", description = "Generated auctions (default: ${DEFAULT-VALUE}).")
    long auctions;

    @Option(names = "--state-backend", split = ",", defaultValue = "hashmap,rocksdb",
            description = "State backends to measure (default: ${DEFAULT-VALUE}).")
    List<String> backends;

    @Option(names = "--checkpoint-interval", defaultValue = "10000", paramLabel = "MS",
            description = "Exactly-once checkpoint interval; 0 turns checkpointing off (default: ${DEFAULT-VALUE}).")
    long checkpointIntervalMs;

    @Option(names = "--repeat", defaultValue = "2", description = "Runs per backend; the best is reported (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--flink", paramLabel = "KEY=VALUE",
            description = "A Flink option for the mini cluster (repeatable), e.g. --flink "
                    + "state.backend.rocksdb.timer-service.factory=HEAP; --state-backend picks the backend.")
    Map<String, String> flinkOptions = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (flinkOptions.containsKey("state.backend.type")) {
            throw new CommandFailure("--flink state.backend.type: use --state-backend hashmap, rocksdb or both");
        }
        if (auctions < 1 || repeat < 1 || checkpointIntervalMs < 0) {
            throw new CommandFailure("--auctions and --repeat must be >= 1 and --checkpoint-interval >= 0 (0: off), got "
                    + auctions + ", " + repeat + " and " + checkpointIntervalMs);
        }
        Configuration flink = FlinkOptions.parse(flinkOptions);
        for (String backend : backends) {
            if (!backend.equals("hashmap") && !backend.equals("rocksdb")) {
                throw new CommandFailure("--state-backend '" + backend + "' is unknown: use hashmap, rocksdb or both");
            }
        }
        JoinsBenchmark benchmark = new JoinsBenchmark(auctions, 1);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("events", benchmark.events());
        report.putAll(benchmark.stateBytesPerOpenImpression());
        report.put("flink_options", flinkOptions);
        for (String backend : backends) {
            Map<String, Object> best = null;
            for (int i = 0; i < repeat; i++) {
                Path checkpoints = Files.createTempDirectory("ctr-bench-joins");
                try {
                    Map<String, Object> run = benchmark.run(backend, checkpoints, checkpointIntervalMs, flink);
                    System.err.println(new ObjectMapper().writeValueAsString(run));
                    if (best == null || (long) run.get("events_per_second") > (long) best.get("events_per_second")) {
                        best = run;
                    }
                } finally {
                    FileUtils.deleteDirectoryQuietly(checkpoints.toFile());
                }
            }
            report.put(backend + "_events_per_second", best.get("events_per_second"));
            report.put(backend + "_events_per_cpu_second", best.get("events_per_cpu_second"));
        }
        System.out.println(new ObjectMapper().writeValueAsString(report));
        return 0;
    }
}
