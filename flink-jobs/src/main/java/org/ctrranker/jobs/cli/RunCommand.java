package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.nio.file.Files;
import java.util.Optional;
import org.apache.flink.configuration.Configuration;
import org.ctrranker.jobs.BoundedRun;
import org.ctrranker.jobs.CtrRankingJob;
import org.ctrranker.jobs.live.Checkpoints;
import org.ctrranker.jobs.live.LiveRun;
import org.ctrranker.jobs.live.StopSignal;
import org.ctrranker.jobs.config.CtrConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the ctr-ranking job locally in Flink's mini cluster.",
                "Without --bounded: unbounded, checkpointing into --checkpoint-dir, one JSON line of counters every",
                "--report-every, until Ctrl-C or --seconds; the latest checkpoint is kept, --resume continues from it.",
                "--bounded: over what the input topics hold now, then stops and prints one JSON line of counts",
                "(events read, joined, labelled, positives, late, orphan and duplicate clicks, dead letters)."})
public final class RunCommand implements Callable<Integer> {

    @Mixin
    KafkaOptions kafka;

    @Mixin
    RedisOptions redis;

    @Option(names = "--bounded", description = "Read the topics to their current end and stop.")
    boolean bounded;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Where the unbounded job checkpoints; its latest checkpoint is kept there "
                    + "(default: checkpoints/ in the local stack's folder).")
    Path checkpointDir;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION",
            description = "Checkpoint interval (e.g. 10s, 1m; default: ctr.checkpoint.interval-ms, 10s).")
    String checkpointInterval;

    @Option(names = "--resume", description = "Restore the latest complete checkpoint in --checkpoint-dir (fails if there is none).")
    boolean resume;

    @Option(names = "--seconds", defaultValue = "0", description = "Stop the unbounded job this many seconds after it was submitted; 0 = until Ctrl-C.")
    long seconds;

    @Option(names = "--report-every", defaultValue = "5s", paramLabel = "DURATION",
            description = "How often the unbounded job prints its counters (default: ${DEFAULT-VALUE}).")
    String reportEvery;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file overriding the defaults.")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one setting (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--parallelism", defaultValue = "2", description = "Parallelism of every operator (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--flink", paramLabel = "KEY=VALUE",
            description = "A Flink option for the unbounded job's mini cluster (repeatable), e.g. the state backend "
                    + "Kubernetes runs: --flink state.backend.type=rocksdb --flink execution.checkpointing.incremental=true; "
                    + "give --resume the same.")
    Map<String, String> flinkOptions = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (parallelism < 1) {
            throw new CommandFailure("--parallelism must be >= 1, got " + parallelism);
        }
        Configuration flink = FlinkOptions.parse(flinkOptions);
        Map<String, String> settings = new LinkedHashMap<>(overrides);
        settings.putIfAbsent("ctr.kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.putIfAbsent("ctr.redis.url", redis.url());
        CtrConfig config;
        try {
            config = CtrConfig.load(configFile, settings);
            CtrRankingJob.checkSettings(config, flink);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
        if (checkpointInterval != null) {
            config = config.with("ctr.checkpoint.interval-ms",
                    Long.toString(Durations.parseMillis("--checkpoint-interval", checkpointInterval)));
        }
        if (bounded) {
            if (resume || !flinkOptions.isEmpty()) {
                throw new CommandFailure((resume ? "--resume" : "--flink") + " is for the unbounded job: drop --bounded or "
                        + (resume ? "--resume" : "--flink"));
            }
            Map<String, Object> counts = BoundedRun.run(config, parallelism);
            System.out.println(new ObjectMapper().writeValueAsString(counts));
            return 0;
        }
        return runUnbounded(config, flink);
    }

    private int runUnbounded(CtrConfig config, Configuration flink) throws Exception {
        if (checkpointDir == null) {
            throw new CommandFailure("no checkpoint directory: pass --checkpoint-dir DIR or start the local stack with 'bin/ctr stack up'");
        }
        long reportMs = Durations.parseMillis("--report-every", reportEvery);
        if (seconds < 0 || reportMs <= 0) {
            throw new CommandFailure("--seconds must be >= 0 and --report-every > 0");
        }
        Path dir = checkpointDir.toAbsolutePath();
        Optional<Path> from = Optional.empty();
        if (resume) {
            from = Checkpoints.latestComplete(dir);
            if (from.isEmpty()) {
                throw new CommandFailure("no complete checkpoint in " + dir + " to resume from: run without --resume first");
            }
        }
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        try (StopSignal stop = new StopSignal(0); LiveRun run = LiveRun.start(config, parallelism, dir, from, flink)) {
            stop.limitFromNow(seconds); // --seconds counts from the job's submission, not the JVM's start-up
            System.out.println("job " + run.jobId() + " running; checkpoints every "
                    + config.longValue("ctr.checkpoint.interval-ms") + " ms into " + dir
                    + from.map(chk -> "; resumed from " + chk).orElse("") + " (Ctrl-C stops it)");
            while (!stop.await(reportMs) && !run.ended()) {
                System.out.println(json.writeValueAsString(run.counters()));
            }
            Map<String, Long> last = run.counters();
            boolean failed = run.ended();
            run.close();
            System.out.println(json.writeValueAsString(last));
            Checkpoints.latestComplete(dir).ifPresent(chk -> System.out.println("latest checkpoint: " + chk));
            if (failed) {
                System.err.println("ctr run: the job ended by itself (see the log); resume with --resume");
                return 1;
            }
            return 0;
        }
    }
}
