package org.ctrranker.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.ctrranker.jobs.cli.CommandFailure;
import org.ctrranker.jobs.cli.Durations;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.live.LiveRun;
import org.ctrranker.jobs.live.StopSignal;
import org.ctrranker.jobs.replay.IpinyouLogReader;
import org.ctrranker.jobs.replay.MindBehaviorsReader;
import org.ctrranker.jobs.replay.ReplayLog;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.StackOptions;
import org.ctrranker.localenv.WorkDirs;
import org.ctrranker.models.eval.DataSets;
import org.ctrranker.operators.redis.RedisEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import redis.clients.jedis.UnifiedJedis;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The one-command demo: starts a private local stack (Kafka + Redis on loopback), runs the ctr-ranking job",
                "in Flink's mini cluster (checkpointing on), feeds it the synthetic generator in real time (or --replay real logs),",
                "and shows every few seconds the throughput, the trainer's online AUC (against the generator's Bayes-optimal AUC),",
                "the live model version and a few live rankings read back from Redis.",
                "Stops after --seconds or on Ctrl-C, and cleans up: job cancelled, stack stopped, temporary files removed."})
public final class DemoCommand implements Callable<Integer> {

    enum Format { mind, ipinyou }

    @Option(names = "--seconds", defaultValue = "0",
            description = "Stop after this many seconds of running (counted once the stack, the job and the feed are up); "
                    + "0 = until Ctrl-C (a replay also stops once it has been played and settled).")
    long seconds;

    @Option(names = "--rate", defaultValue = "100", paramLabel = "PER_SECOND",
            description = "Synthetic auctions per second, event time = wall clock (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--seed", defaultValue = "1", description = "Generator seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--window", defaultValue = "15s", paramLabel = "DURATION",
            description = "Attribution window for the synthetic demo (the job's default is 30m: labels would take that long; default: ${DEFAULT-VALUE}).")
    String window;

    @Option(names = "--publish-every", defaultValue = "1000", paramLabel = "SAMPLES",
            description = "Trained samples per published model version (default: ${DEFAULT-VALUE}).")
    long publishEvery;

    @Option(names = "--replay", paramLabel = "FORMAT", description = "Replay real logs instead: ${COMPLETION-CANDIDATES} (files as arguments).")
    Format replay;

    @Option(names = "--speedup", defaultValue = "1000",
            description = "With --replay: play event time this many times faster than real time (default: ${DEFAULT-VALUE}).")
    double speedup;

    @Parameters(arity = "0..*", paramLabel = "FILE", description = "With --replay: the log files (MIND behaviors.tsv, iPinYou *.log.txt).")
    List<Path> files = List.of();

    @Option(names = "--every", defaultValue = "5s", paramLabel = "DURATION", description = "How often to show the state (default: ${DEFAULT-VALUE}).")
    String every;

    @Option(names = "--rankings", defaultValue = "3", description = "Live rankings shown each time (default: ${DEFAULT-VALUE}).")
    int rankings;

    @Option(names = "--parallelism", defaultValue = "2", description = "Parallelism of the job (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one job setting (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** How long a replay keeps running after its last record, so the job can score and label the end. */
    private static final long REPLAY_SETTLE_MS = 15_000;

    @Override
    public Integer call() throws Exception {
        long everyMs = Durations.parseMillis("--every", every);
        long windowMs = Durations.parseMillis("--window", window);
        checkFlags(everyMs, windowMs);
        ReplayLog log = replay == null ? null : readLog();

        Path work = Files.createTempDirectory("ctr-demo");
        // Ctrl-C works from here on; the --seconds clock starts once the job and the feed run.
        StopSignal stop = new StopSignal(0);
        LocalStack stack = null;
        LiveRun run = null;
        Thread feeder = null;
        DemoFeed feedRef = null;
        try {
            System.out.println("demo: starting a private Kafka broker and redis-server on loopback...");
            stack = LocalStack.start(StackOptions.builder().workDir(work.resolve("stack")).detached(false).build());
            System.out.println("stack: KAFKA_BOOTSTRAP=" + stack.endpoints().kafkaBootstrap() + " REDIS_URL="
                    + stack.endpoints().redisUrl() + " PIDS=" + stack.pids().stream().map(String::valueOf)
                    .collect(Collectors.joining(",")));
            Map<String, String> demoSettings = demoSettings(windowMs);
            CtrConfig config = config(stack, demoSettings);
            System.out.println("settings: " + demoSettings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(" ")));
            run = LiveRun.start(config, parallelism, work.resolve("checkpoints"), Optional.empty());
            System.out.println("job: ctr-ranking running in Flink's mini cluster (job " + run.jobId() + ", parallelism "
                    + parallelism + ", checkpoints every " + config.longValue("ctr.checkpoint.interval-ms") + " ms)");

            BayesAucWindow bayes = log == null ? new BayesAucWindow((int) config.longValue("ctr.training.metrics-window")) : null;
            DemoFeed feed = new DemoFeed(stack.endpoints().kafkaBootstrap(), log == null
                    ? DemoFeed.synthetic(generatorConfig(windowMs), bayes) : DemoFeed.replay(log, speedup));
            feedRef = feed;
            feeder = new Thread(feed, "ctr-demo-feed");
            feeder.setDaemon(true);
            feeder.start();
            System.out.println(log == null
                    ? String.format("feed: synthetic generator, seed %d, %.0f auctions/s in real time (Ctrl-C stops the demo)", seed, rate)
                    : String.format("feed: replaying %s (%,d records) at %.0fx (Ctrl-C stops the demo)", files, log.records().size(), speedup));

            DemoView view = new DemoView(System.out, config.string("ctr.redis.key-prefix"),
                    config.string("ctr.model.name"), bayes, rankings);
            stop.limitFromNow(seconds);
            long started = System.nanoTime();
            long feedEndedAt = -1;
            try (UnifiedJedis redis = RedisEndpoint.parse(stack.endpoints().redisUrl()).client()) {
                while (!stop.await(everyMs)) {
                    if (run.ended()) {
                        throw new CommandFailure("the job stopped by itself; see the log above");
                    }
                    if (feed.failure() != null) {
                        throw new CommandFailure("the feed failed: " + feed.failure().getMessage());
                    }
                    view.show(run.counters(), feed, redis);
                    if (feed.finished() && seconds == 0) {
                        feedEndedAt = feedEndedAt < 0 ? System.currentTimeMillis() : feedEndedAt;
                        if (System.currentTimeMillis() - feedEndedAt >= REPLAY_SETTLE_MS) {
                            break;
                        }
                    }
                }
                Map<String, Long> counters = run.counters();
                System.out.println(new ObjectMapper().writeValueAsString(
                        view.summary(feed, counters, (System.nanoTime() - started) / 1e9)));
            }
            return 0;
        } finally {
            cleanUp(feedRef, feeder, run, stack, work);
            stop.close();
        }
    }

    private void checkFlags(long everyMs, long windowMs) {
        if (seconds < 0) {
            throw new CommandFailure("--seconds must be >= 0 (0 = until Ctrl-C)");
        }
        if (!(rate > 0) || rate > 100_000) {
            throw new CommandFailure("--rate must be between 0 and 100000 auctions per second, got " + rate);
        }
        if (everyMs <= 0 || windowMs <= 0 || publishEvery <= 0 || rankings < 0 || parallelism < 1) {
            throw new CommandFailure("--every, --window, --publish-every and --parallelism must be > 0, --rankings >= 0");
        }
        if (replay == null && !files.isEmpty()) {
            throw new CommandFailure("files are for --replay: add --replay mind|ipinyou before them");
        }
        if (replay != null && files.isEmpty()) {
            throw new CommandFailure("--replay " + replay + " needs log files, e.g. ../shared/data/mind-small/behaviors.tsv");
        }
        if (replay != null && !(speedup > 0)) {
            throw new CommandFailure("--speedup must be > 0 for a replay, got " + speedup);
        }
        for (Path file : files) {
            if (!Files.isReadable(file)) {
                throw new CommandFailure("cannot read " + file + ": give the path of a " + replay + " log file");
            }
        }
    }

    private ReplayLog readLog() throws IOException {
        return replay == Format.mind ? MindBehaviorsReader.read(files) : IpinyouLogReader.read(files);
    }

    /** What the demo changes from the job's defaults, so labels, versions and rankings show within a minute. */
    Map<String, String> demoSettings(long windowMs) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (replay == null) {
            // Labels come one window after their impression; 30 min would show nothing in a demo.
            settings.put("ctr.attribution.window-ms", Long.toString(windowMs));
        }
        settings.put("ctr.training.publish-every-samples", Long.toString(publishEvery));
        settings.put("ctr.training.metrics-window", "5000");
        settings.put("ctr.checkpoint.interval-ms", "5000");
        if (replay == Format.mind) {
            settings.put("ctr.model.learning-rate", DataSets.MIND_LEARNING_RATE);
        }
        settings.putAll(overrides);
        return settings;
    }

    private static CtrConfig config(LocalStack stack, Map<String, String> settings) {
        Map<String, String> all = new LinkedHashMap<>(settings);
        all.put("ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap());
        all.put("ctr.redis.url", stack.endpoints().redisUrl());
        try {
            return CtrConfig.load(null, all);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
    }

    private GeneratorConfig generatorConfig(long windowMs) {
        try {
            return GeneratorConfig.builder().seed(seed).auctions(Long.MAX_VALUE / 2).auctionsPerSecond(rate)
                    .startTimeMs(System.currentTimeMillis()).attributionWindowMs(windowMs).build();
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
    }

    private static void cleanUp(DemoFeed feed, Thread feeder, LiveRun run, LocalStack stack, Path work) {
        System.out.println("demo: stopping (feed, job, stack) and removing " + work);
        if (feeder != null) {
            feed.stop();
            try {
                feeder.join(10_000);
                if (feeder.isAlive()) {
                    feeder.interrupt();
                    feeder.join(20_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (run != null) {
            run.close();
        }
        if (stack != null) {
            stack.close();
        }
        WorkDirs.deleteRecursively(work);
        System.out.println("demo: stopped; nothing left running");
    }
}
