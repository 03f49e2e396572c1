package org.ctrranker.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.ctrranker.jobs.cli.CommandFailure;
import org.ctrranker.jobs.cli.FlinkOptions;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.live.LiveRun;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.StackOptions;
import org.ctrranker.localenv.WorkDirs;
import org.ctrranker.models.bench.ModelBenchmark;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.scoring.AuctionScorer;
import org.ctrranker.operators.scoring.OnlineConfig;
import org.ctrranker.operators.scoring.ServingWrites;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.Response;

@Command(name = "e2e", mixinStandardHelpOptions = true,
        description = {"End to end on a private local stack (real Kafka broker and redis-server) with the job in the mini cluster:",
                "0. before the job starts, the broker alone: producer to read_committed consumer latency (the floor);",
                "1. steps the offered auction rate up (--candidates each) until the job stops keeping up: scored rate below",
                "   90%% of offered, the unscored backlog past 2 s of traffic, or the scorers' event time (the labelled side",
                "   and the trainer's versions included) trailing the wall clock by ctr.scoring.state-lag-ms or more at the",
                "   step's end, or over 1%% of its auctions scored at ctr.scoring.max-wait-ms instead of on arrival;",
                "2. at half the highest sustained rate: p50/p99 from an auction handed to Kafka to its ranking written",
                "   in Redis (keyspace notifications), split by checkpoints, with the JVM's collector pauses and how",
                "   many of the slowest 1%% were in flight across one, and the job's Redis writes/s;",
                "3. a raw pipelined VersionedRedisWriter run (writes/s, and Redis's own time per write in the script: a bound",
                "   no client can pass on one server);",
                "4. in-job scoring candidates per CPU-second against the model's raw forward pass at the same batch.",
                "Prints progress, then one JSON line. Goals: ratio >= 0.8, p99 <= 20 ms, >= 300k Redis writes/s."})
public final class E2eBenchmarkCommand implements Callable<Integer> {

    @Option(names = "--start-rate", defaultValue = "50", description = "First offered rate, auctions/s (default: ${DEFAULT-VALUE}).")
    double startRate;

    @Option(names = "--factor", defaultValue = "1.5", description = "Rate multiplier per step (default: ${DEFAULT-VALUE}).")
    double factor;

    @Option(names = "--max-rate", defaultValue = "50000", description = "Highest rate tried (default: ${DEFAULT-VALUE}).")
    double maxRate;

    @Option(names = "--step-seconds", defaultValue = "40", description = "Length of one rate step; longer than the attribution "
            + "window (15 s here) and the watermark bound, or a step's samples reach the trainer only after it is judged "
            + "(default: ${DEFAULT-VALUE}).")
    double stepSeconds;

    @Option(names = "--ramp-seconds", defaultValue = "300", description = "Time bound on the whole ramp (default: ${DEFAULT-VALUE}).")
    double rampSeconds;

    @Option(names = "--latency-seconds", defaultValue = "30", description = "Length of the latency run (default: ${DEFAULT-VALUE}).")
    double latencySeconds;

    @Option(names = "--latency-rate", defaultValue = "0", description = "Skip the ramp and measure the latency at this rate, "
            + "auctions/s (your own traffic, say); 0: at half the highest sustained rate (default: ${DEFAULT-VALUE}).")
    double givenLatencyRate;

    @Option(names = "--candidates", defaultValue = "10", description = "Candidates per auction (default: ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--redis-writes", defaultValue = "200000", description = "Writes in the raw writer run (default: ${DEFAULT-VALUE}).")
    int redisWrites;

    @Option(names = "--parallelism", defaultValue = "2", description = "Job parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--model-seconds", defaultValue = "3", description = "Measuring time of the raw forward pass (default: ${DEFAULT-VALUE}).")
    double modelSeconds;

    @Option(names = "--latency-warm-up-seconds", defaultValue = "20",
            description = "Seconds at the latency run's rate before it is measured, at least; then more while the job is still "
                    + "behind after the ramp's overload (--latency-recovery-seconds) (default: ${DEFAULT-VALUE}).")
    double latencyWarmUpSeconds;

    @Option(names = "--latency-recovery-seconds", defaultValue = "120",
            description = "After the warm-up, at most this much more time at the latency run's rate while the scorers' event "
                    + "time still trails the wall clock by ctr.scoring.state-lag-ms or more (default: ${DEFAULT-VALUE}).")
    double latencyRecoverySeconds;

    private static final double RECOVERY_ROUND_SECONDS = 5;

    @Option(names = "--latency-csv", paramLabel = "FILE",
            description = "Also write each auction of the latency run to FILE: auction id, sent, scored and seen in Redis (epoch ms).")
    Path latencyCsv;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "A job setting for the run (repeatable), e.g. --set ctr.scoring.replay-exact=false.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--flink", paramLabel = "KEY=VALUE",
            description = "A Flink option for the mini cluster (repeatable), e.g. the state backend Kubernetes runs: "
                    + "--flink state.backend.type=rocksdb --flink execution.checkpointing.incremental=true.")
    Map<String, String> flinkOptions = new LinkedHashMap<>();

    /** Accumulators reach the client with the TaskManager heartbeat (1 s in LiveRun): wait that out. */
    private static final long SETTLE_MS = 2_500;
    /** An auction sent this close to a checkpoint's window counts as delayed by it (it was in flight then). */
    private static final long CHECKPOINT_MARGIN_MS = 100;

    @Override
    public Integer call() throws Exception {
        if (!(startRate > 0) || !(factor > 1) || !(stepSeconds >= 2) || !(latencySeconds >= 2) || candidates < 1
                || redisWrites < 1 || parallelism < 1 || !(givenLatencyRate >= 0)) {
            throw new CommandFailure("--start-rate > 0, --factor > 1, --step-seconds and --latency-seconds >= 2, "
                    + "--candidates, --redis-writes and --parallelism >= 1, --latency-rate >= 0");
        }
        try {
            OnlineConfig.fromSettings(CtrConfig.load(null, settings).asMap());
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
        Configuration flink = FlinkOptions.parse(flinkOptions);
        Path work = Files.createTempDirectory("ctr-bench-e2e");
        Map<String, Object> report = new LinkedHashMap<>();
        LocalStack stack = null;
        LiveRun run = null;
        try {
            stack = LocalStack.start(StackOptions.builder().workDir(work.resolve("stack")).detached(false).build());
            String bootstrap = stack.endpoints().kafkaBootstrap();
            RedisEndpoint redis = RedisEndpoint.parse(stack.endpoints().redisUrl());
            // A version every 2,000 samples (the job's default is 20,000): a run of a few minutes then cuts, gates,
            // publishes and swaps several, as a long-running job does, instead of none.
            Map<String, String> overrides = new LinkedHashMap<>(Map.of("ctr.attribution.window-ms", "15000",
                    "ctr.training.publish-every-samples", "2000"));
            overrides.putAll(settings);
            overrides.put("ctr.kafka.bootstrap-servers", bootstrap);
            overrides.put("ctr.redis.url", stack.endpoints().redisUrl());
            CtrConfig config = CtrConfig.load(null, overrides);
            report.put("settings", overrides);
            System.err.println("Kafka alone: 100 records/s for 10 s");
            report.put("kafka_round_trip_before_job", KafkaRoundTrip.measure(bootstrap, 100, 10));
            run = LiveRun.start(config, parallelism, work.resolve("checkpoints"), Optional.empty(), flink);
            report.put("flink_options", flinkOptions);
            report.put("parallelism", parallelism);
            report.put("candidates_per_auction", candidates);

            System.err.printf("warm-up: %.0f auctions/s for 10 s%n", startRate);
            long seed = 1000;
            long totalSent = new AuctionLoad(bootstrap, false).offerAndCount(seed++, startRate, candidates, 10);
            Thread.sleep(SETTLE_MS);

            OnlineConfig online = OnlineConfig.fromSettings(config.asMap());
            long stateLagMs = online.stateLagMs();
            Step best = null;
            List<Map<String, Object>> steps = new ArrayList<>();
            long rampStart = System.nanoTime();
            for (double rate = startRate; givenLatencyRate == 0 && rate <= maxRate
                    && (System.nanoTime() - rampStart) / 1e9 + stepSeconds <= rampSeconds; rate *= factor) {
                Step step = step(run, redis, bootstrap, seed++, rate, totalSent, stateLagMs);
                totalSent += step.sent;
                steps.add(step.asMap());
                System.err.println("step: " + new ObjectMapper().writeValueAsString(step.asMap()));
                if (!step.keptUp) {
                    break;
                }
                best = step;
            }
            report.put("steps", steps);
            report.put("max_sustained_auctions_per_s", best == null ? 0 : Math.round(best.offered));
            report.put("max_sustained_candidates_per_s", best == null ? 0 : Math.round(best.offered * candidates));
            if (best != null) {
                report.put("in_job_scoring_candidates_per_cpu_s", Math.round(best.candidatesPerCpuSecond));
                report.put("redis_writes_per_s_at_max", Math.round(best.redisWritesPerSecond));
            }

            // The step that failed left a backlog; latency is measured on a job that has caught up.
            report.put("drained_before_latency", awaitDrained(run, totalSent, 120));
            double latencyRate = givenLatencyRate > 0 ? givenLatencyRate : (best == null ? startRate : best.offered) / 2;
            report.put("latency_rate_from", givenLatencyRate > 0 ? "--latency-rate"
                    : best == null ? "half of --start-rate (no step sustained or none run)" : "half the highest sustained rate");
            if (latencyWarmUpSeconds > 0) {
                System.err.printf("latency warm-up: %.0f auctions/s for %.0f s, not measured%n", latencyRate, latencyWarmUpSeconds);
                new AuctionLoad(bootstrap, false).offer(seed++, latencyRate, candidates, latencyWarmUpSeconds);
            }
            // The failed step left the labelled side (and the versions' watermark) behind; event time moves only
            // with traffic, so the job catches up under the latency run's own rate, in short rounds, bounded.
            double recovery = 0;
            Map<String, Long> polled = run.counters();
            Long delay = watermarkDelayMs(polled);
            while ((delay == null || delay >= stateLagMs) && recovery < latencyRecoverySeconds) {
                System.err.printf("latency warm-up: the scorers' event time trails by %s ms (by input: %s), %.0f s more%n",
                        delay, inputDelaysMs(polled), RECOVERY_ROUND_SECONDS);
                new AuctionLoad(bootstrap, false).offer(seed++, latencyRate, candidates, RECOVERY_ROUND_SECONDS);
                recovery += RECOVERY_ROUND_SECONDS;
                polled = run.counters();
                delay = watermarkDelayMs(polled);
            }
            report.put("latency_warm_up_seconds", latencyWarmUpSeconds + recovery);
            report.put("watermark_delay_before_latency_ms", delay);
            report.put("scorer_input_delays_before_latency_ms", inputDelaysMs(polled));
            // Not recovered: the latency run measures the max wait, not the pipeline; say so beside its figures.
            report.put("recovered_before_latency", delay != null && delay < stateLagMs);
            System.err.printf("latency: %.0f auctions/s for %.0f s%n", latencyRate, latencySeconds);
            Map<String, Long> processes = new LinkedHashMap<>();
            processes.put("job", ProcessHandle.current().pid());
            processes.put("kafka", stack.pids().get(0));
            processes.put("redis", stack.pids().get(1));
            report.put("latency", latency(run, redis, bootstrap, seed++, latencyRate, config.string("ctr.redis.key-prefix"),
                    config.string("ctr.model.name"), processes));

            Map<String, Long> counters = run.counters();
            run.close();
            run = null;
            System.err.println("raw VersionedRedisWriter: " + redisWrites + " writes");
            report.put("raw_redis_writer", RawRedisWrites.run(redis, redisWrites, 1_000));

            // The in-job figure is the best step's, so the forward pass runs at that step's own batch size.
            int batch = Math.max(1, best != null && best.batchCandidates > 0 ? best.batchCandidates
                    : batchCandidates(Map.of(), counters));
            System.err.println("raw forward pass at batch " + batch + " candidates");
            Map<String, Object> model = new ModelBenchmark(online.modelConfig(), modelSeconds).run(new int[] {batch}, 256);
            Object raw = model.get("b" + batch + "_shared_candidates_per_cpu_s");
            Map<String, Object> ratio = new LinkedHashMap<>();
            ratio.put("batch_candidates", batch);
            ratio.put("batch_source", best != null && best.batchCandidates > 0
                    ? "measured at the highest sustained step: scoredCandidates / scoringBatches"
                    : "measured over the whole run: scoredCandidates / scoringBatches");
            ratio.put("raw_forward_candidates_per_cpu_s", raw);
            if (best != null && raw instanceof Number r && r.doubleValue() > 0) {
                ratio.put("ratio", Math.round(best.candidatesPerCpuSecond / r.doubleValue() * 1000) / 1000.0);
            }
            report.put("scoring_vs_raw_forward", ratio);
            report.put("goals", Map.of("ratio", ">= 0.8", "p99_ms", "<= 20", "redis_writes_per_s", ">= 300000"));
            System.out.println(new ObjectMapper().writeValueAsString(report));
            return 0;
        } finally {
            if (run != null) {
                run.close();
            }
            if (stack != null) {
                stack.close();
            }
            WorkDirs.deleteRecursively(work);
        }
    }

    /** One rate step: offered vs scored, the backlog after it, scoring CPU and the job's Redis writes. */
    private Step step(LiveRun run, RedisEndpoint redis, String bootstrap, long seed, double rate, long sentBefore,
            long stateLagMs)
            throws Exception {
        Map<String, Long> before = run.counters();
        long writtenBefore = keysWritten(redis);
        long t0 = System.nanoTime();
        AuctionLoad load = new AuctionLoad(bootstrap, false);
        double offered = load.offer(seed, rate, candidates, stepSeconds);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long writtenAfter = keysWritten(redis);
        Map<String, Long> atEnd = run.counters();
        Long watermarkDelay = watermarkDelayMs(atEnd);
        Map<String, Long> inputDelays = inputDelaysMs(atEnd);
        Thread.sleep(SETTLE_MS);
        Map<String, Long> after = run.counters();
        Step step = new Step();
        step.rate = rate;
        step.offered = offered;
        step.sent = load.auctionsSent();
        // Counters lag by up to a heartbeat at both ends; the settle wait lets the step's tail be scored.
        long scored = delta(before, after, "scoredAuctions");
        step.scoredRate = scored / seconds;
        step.backlog = sentBefore + step.sent - after.getOrDefault("scoredAuctions", 0L);
        long cpuMicros = delta(before, after, "scoringCpuMicros");
        step.candidatesPerCpuSecond = cpuMicros == 0 ? 0 : delta(before, after, "scoredCandidates") * 1e6 / cpuMicros;
        step.redisWritesPerSecond = (writtenAfter - writtenBefore) / seconds;
        step.watermarkDelayMs = watermarkDelay;
        step.inputDelaysMs = inputDelays;
        step.timedOut = delta(before, after, "scorerTimedOutAuctions");
        step.batchCandidates = batchCandidates(before, after);
        // Scoring alone keeping pace is not enough: once the labelled side (attribution, statistics, the trainer)
        // falls behind, the versions' watermark passes t - lag too late and every auction waits the max wait.
        step.keptUp = step.scoredRate >= 0.9 * offered && step.backlog <= Math.max(500, 2 * offered)
                && watermarkDelay != null && watermarkDelay < stateLagMs && step.timedOut <= 0.01 * step.sent;
        return step;
    }

    private Map<String, Object> latency(LiveRun run, RedisEndpoint redis, String bootstrap, long seed, double rate,
            String keyPrefix, String modelName, Map<String, Long> processes) throws Exception {
        Map<String, Object> result = new LinkedHashMap<>();
        try (RankingArrivals arrivals = new RankingArrivals(redis, keyPrefix);
                CheckpointWindows checkpoints = CheckpointWindows.watch(run.checkpointDir());
                GcPauses gc = GcPauses.record()) {
            AuctionLoad load = new AuctionLoad(bootstrap, true);
            Map<String, Long> countersBefore = run.counters();
            long writtenBefore = keysWritten(redis);
            long t0 = System.nanoTime();
            long startedMs = System.currentTimeMillis();
            try (Jedis jedis = redis.connect()) {
                jedis.slowlogReset();
            }
            ThreadCpu.Recorder cpu = ThreadCpu.Recorder.start(processes, 1_000);
            double offered;
            try {
                offered = load.offer(seed, rate, candidates, latencySeconds);
            } finally {
                cpu.stop();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long written = keysWritten(redis) - writtenBefore;
            long waitUntil = System.currentTimeMillis() + 15_000;
            while (System.currentTimeMillis() < waitUntil && !allSeen(load, arrivals, keyPrefix)) {
                Thread.sleep(200);
            }
            Thread.sleep(SETTLE_MS);
            Map<String, Long> countersAfter = run.counters();
            List<Long> latencies = new ArrayList<>();
            List<Long> toScored = new ArrayList<>();
            List<Long> scoredToRedis = new ArrayList<>();
            Map<String, Long> scoredAt = scoredAtMs(redis, keyPrefix, load.sentAtMs().keySet());
            long missing = 0;
            List<CheckpointWindows.Window> windows = checkpoints.windows();
            List<Long> duringCheckpoints = new ArrayList<>();
            List<Long> betweenCheckpoints = new ArrayList<>();
            List<String> csv = new ArrayList<>(List.of("auction_id,sent_ms,scored_ms,seen_ms"));
            List<long[]> inFlight = new ArrayList<>();
            for (Map.Entry<String, Long> sent : load.sentAtMs().entrySet()) {
                Long seen = arrivals.firstSeenMs(RedisKeys.ranking(keyPrefix, sent.getKey()));
                Long scored = scoredAt.get(sent.getKey());
                csv.add(String.join(",", sent.getKey(), sent.getValue().toString(), String.valueOf(scored),
                        String.valueOf(seen)));
                if (seen == null) {
                    missing++;
                    continue;
                }
                latencies.add(seen - sent.getValue());
                inFlight.add(new long[] {sent.getValue(), seen});
                (CheckpointWindows.during(windows, sent.getValue(), CHECKPOINT_MARGIN_MS) ? duringCheckpoints
                        : betweenCheckpoints).add(seen - sent.getValue());
                if (scored != null) {
                    toScored.add(scored - sent.getValue());
                    scoredToRedis.add(seen - scored);
                }
            }
            if (latencyCsv != null) {
                Files.write(latencyCsv, csv);
            }
            long[] sorted = sortedArray(latencies);
            result.put("offered_auctions_per_s", Math.round(offered));
            result.put("auctions", load.auctionsSent());
            result.put("rankings_seen", sorted.length);
            result.put("rankings_missing", missing);
            result.put("p50_ms", percentile(sorted, 0.50));
            result.put("p99_ms", percentile(sorted, 0.99));
            result.put("max_ms", sorted.length == 0 ? null : sorted[sorted.length - 1]);
            // Where the time goes: until the scorer's micro-batch was scored (Kafka, source, the scorer's wait
            // for the watermark and for its batch), then on to Redis (network buffers, sink flush, script).
            long[] scoring = sortedArray(toScored);
            long[] writing = sortedArray(scoredToRedis);
            result.put("to_scored_p50_ms", percentile(scoring, 0.50));
            result.put("to_scored_p99_ms", percentile(scoring, 0.99));
            result.put("scored_to_redis_p50_ms", percentile(writing, 0.50));
            result.put("scored_to_redis_p99_ms", percentile(writing, 0.99));
            // A stall of the whole scoring path (they come with checkpoints: README), which percentiles alone do
            // not show; the generator's own lulls (76 ms at 126/s) are not counted.
            result.put("longest_scoring_pause_ms", longestStallMs(load.sentAtMs(), scoredAt));
            // The checkpoints' share of the tail: auctions sent while one ran (from its trigger to its completion,
            // give or take the margin) against the rest.
            result.put("checkpoints", windows.size());
            result.put("checkpoint_median_ms", medianDuration(windows));
            // on disk, compressed: the trainer's state and each scorer subtask's versions are most of it
            result.put("checkpoint_bytes", windows.stream().map(CheckpointWindows.Window::bytes).toList());
            result.put("checkpoints_at_s", windows.stream().map(w -> (w.triggeredMs() - startedMs) / 1000.0).toList());
            result.put("during_checkpoints", latencySummary(duringCheckpoints));
            result.put("between_checkpoints", latencySummary(betweenCheckpoints));
            // The collector's share of the tail: every task of the job stops while it runs.
            Long p99 = percentile(sorted, 0.99);
            result.put("gc", GcPauses.summary(gc.pauses(), inFlight, p99 == null ? Long.MAX_VALUE : p99));
            // Publications in the run and how the scorers took them (README: where the tail comes from).
            result.put("model_versions", delta(countersBefore, countersAfter, "modelVersions"));
            result.put("scorer_model_swaps", delta(countersBefore, countersAfter, "scorerModelSwaps"));
            result.put("scorer_preloaded_swaps", delta(countersBefore, countersAfter, "scorerPreloadedSwaps"));
            List<double[]> published = publishedSince(redis, keyPrefix, modelName, startedMs);
            result.put("model_versions_published_at_s", published.stream().map(p -> p[0]).toList());
            // what each version carried through the job, its checkpoints and Redis
            result.put("model_version_bytes", published.stream().map(p -> (long) p[1]).toList());
            result.put("redis_slow_commands", slowCommands(redis, startedMs));
            result.put("auctions_waited_for_watermark", delta(countersBefore, countersAfter, "scorerWaitedAuctions"));
            result.put("auctions_scored_at_max_wait", delta(countersBefore, countersAfter, "scorerTimedOutAuctions"));
            result.put("job_redis_writes_per_s", Math.round(written / seconds));
            // Where the cores went while the auctions were sent: the job's JVM (the load generator in it too), the
            // broker and Redis, each with its busiest thread groups, and in the busiest seconds.
            result.put("cpu", cpu.report(8, 3));
            result.put("clock", "send and notification times are this JVM's wall clock in ms; the producer does not linger");
        }
        return result;
    }

    /**
     * How far the scorers' event time (the slowest subtask's watermark: auctions with the feedback snapshots, and
     * the trainer's model versions) trails the wall clock, as of the last heartbeat; null before the first.
     */
    private static Long watermarkDelayMs(Map<String, Long> counters) {
        Long watermark = counters.get("scorerWatermarkMs");
        return watermark == null || watermark == Long.MIN_VALUE ? null : System.currentTimeMillis() - watermark;
    }

    /**
     * {@link #watermarkDelayMs} per input of the scorers: the auctions, the feedback snapshots, and the model versions
     * (the trainer's event time); the largest one is what holds the scorers back.
     */
    private static Map<String, Long> inputDelaysMs(Map<String, Long> counters) {
        long now = System.currentTimeMillis();
        Map<String, Long> delays = new LinkedHashMap<>();
        for (String[] input : new String[][] {{"auctions", AuctionScorer.AUCTIONS_WATERMARK},
                {"feedback_snapshots", AuctionScorer.FEEDBACK_WATERMARK}, {"model_versions", AuctionScorer.VERSIONS_WATERMARK}}) {
            Long watermark = counters.get(input[1]);
            delays.put(input[0], watermark == null || watermark == Long.MIN_VALUE ? null : now - watermark);
        }
        return delays;
    }

    /**
     * When the trainer published each version since {@code sinceMs}, in seconds from then (the clock of
     * {@code --latency-csv}'s sent_ms less the run's start), to set against the slow auctions' times, and the size of
     * its parameters in bytes; in order of publication.
     */
    private static List<double[]> publishedSince(RedisEndpoint redis, String keyPrefix, String modelName, long sinceMs) {
        List<double[]> published = new ArrayList<>();
        try (Jedis jedis = redis.connect()) {
            ScanParams match = new ScanParams().match(RedisKeys.modelVersionPattern(keyPrefix, modelName)).count(1000);
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = jedis.scan(cursor, match);
                for (String key : page.getResult()) {
                    List<String> fields = jedis.hmget(key, "published_processing_time_ms", "parameters_bytes");
                    String at = fields.get(0);
                    if (at != null && Long.parseLong(at) >= sinceMs) {
                        String bytes = fields.get(1);
                        published.add(new double[] {(Long.parseLong(at) - sinceMs) / 1000.0,
                            bytes == null ? -1 : Long.parseLong(bytes)});
                    }
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        }
        published.sort(java.util.Comparator.comparingDouble(p -> p[0]));
        return published;
    }

    /**
     * Commands that held the single-threaded Redis server 10 ms or more (its slow log's default threshold) since
     * {@code sinceMs}: when (s from then, to the second), how long (ms) and which. Every ranking waits behind them.
     */
    private static List<Map<String, Object>> slowCommands(RedisEndpoint redis, long sinceMs) {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Jedis jedis = redis.connect()) {
            for (redis.clients.jedis.resps.Slowlog entry : jedis.slowlogGet(128)) {
                Map<String, Object> command = new LinkedHashMap<>();
                command.put("at_s", entry.getTimeStamp() - sinceMs / 1000);
                command.put("ms", entry.getExecutionTime() / 1000.0);
                command.put("command", entry.getArgs().isEmpty() ? "" : entry.getArgs().get(0));
                out.add(command);
            }
        }
        out.sort(java.util.Comparator.comparingLong(c -> (Long) c.get("at_s")));
        return out;
    }

    /** The scorer's {@code scored_at_ms} of each auction's ranking (job and bench share this machine's clock). */
    private static Map<String, Long> scoredAtMs(RedisEndpoint redis, String keyPrefix, Collection<String> auctionIds) {
        Map<String, Response<String>> replies = new LinkedHashMap<>();
        try (Jedis jedis = redis.connect(); Pipeline pipeline = jedis.pipelined()) {
            for (String id : auctionIds) {
                replies.put(id, pipeline.hget(RedisKeys.ranking(keyPrefix, id), ServingWrites.FIELD_SCORED_AT));
            }
            pipeline.sync();
        }
        Map<String, Long> scoredAt = new HashMap<>();
        replies.forEach((id, reply) -> {
            if (reply.get() != null) {
                scoredAt.put(id, Long.parseLong(reply.get()));
            }
        });
        return scoredAt;
    }

    /**
     * The longest time in which some sent auction waited and none was scored: between two consecutive scorings, from
     * the later of the first one and the send of the earliest auction still unscored. A lull in the input is not a
     * stall. Null for fewer than two scored auctions.
     */
    static Long longestStallMs(Map<String, Long> sentAtMs, Map<String, Long> scoredAtMs) {
        long[][] byScoring = scoredAtMs.entrySet().stream().filter(e -> sentAtMs.containsKey(e.getKey()))
                .map(e -> new long[] {e.getValue(), sentAtMs.get(e.getKey())})
                .sorted(Comparator.comparingLong((long[] a) -> a[0])).toArray(long[][]::new);
        Long longest = null;
        long earliestSentLater = Long.MAX_VALUE; // of the auctions scored at or after byScoring[i]
        for (int i = byScoring.length - 1; i >= 1; i--) {
            earliestSentLater = Math.min(earliestSentLater, byScoring[i][1]);
            long stall = Math.max(0, byScoring[i][0] - Math.max(byScoring[i - 1][0], earliestSentLater));
            longest = longest == null ? stall : Math.max(longest, stall);
        }
        return longest;
    }

    private static Map<String, Object> latencySummary(List<Long> latencies) {
        long[] sorted = sortedArray(latencies);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("auctions", sorted.length);
        summary.put("p50_ms", percentile(sorted, 0.50));
        summary.put("p99_ms", percentile(sorted, 0.99));
        summary.put("max_ms", sorted.length == 0 ? null : sorted[sorted.length - 1]);
        return summary;
    }

    private static Long medianDuration(List<CheckpointWindows.Window> windows) {
        long[] sorted = windows.stream().mapToLong(w -> w.completedMs() - w.triggeredMs()).sorted().toArray();
        return sorted.length == 0 ? null : sorted[sorted.length / 2];
    }

    private static long[] sortedArray(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    private static boolean allSeen(AuctionLoad load, RankingArrivals arrivals, String keyPrefix) {
        return load.sentAtMs().keySet().stream().allMatch(id -> arrivals.firstSeenMs(RedisKeys.ranking(keyPrefix, id)) != null);
    }

    /** Waits until the job has scored every auction sent so far (or the timeout); true if it has. */
    private static boolean awaitDrained(LiveRun run, long sent, long timeoutSeconds) throws InterruptedException {
        long until = System.currentTimeMillis() + timeoutSeconds * 1000;
        while (System.currentTimeMillis() < until) {
            if (run.counters().getOrDefault("scoredAuctions", 0L) >= sent) {
                return true;
            }
            Thread.sleep(1_000);
        }
        return false;
    }

    /** Candidates per scorer micro-batch between two counter readings; 0 when none was scored. */
    private static int batchCandidates(Map<String, Long> before, Map<String, Long> after) {
        long batches = delta(before, after, "scoringBatches");
        return batches <= 0 ? 0 : (int) Math.max(1, Math.round((double) delta(before, after, "scoredCandidates") / batches));
    }

    private static Long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return null;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static long delta(Map<String, Long> before, Map<String, Long> after, String name) {
        return after.getOrDefault(name, 0L) - before.getOrDefault(name, 0L);
    }

    /** HSET calls Redis has served, the versioned writer's script's included: one per key it applied. */
    private static long keysWritten(RedisEndpoint redis) {
        try (Jedis jedis = redis.connect()) {
            return (long) RedisCommandStats.value(jedis.info("commandstats"), "hset", "calls");
        }
    }

    private static final class Step {
        double rate;
        double offered;
        long sent;
        double scoredRate;
        long backlog;
        double candidatesPerCpuSecond;
        double redisWritesPerSecond;
        Long watermarkDelayMs;
        Map<String, Long> inputDelaysMs;
        long timedOut;
        int batchCandidates;
        boolean keptUp;

        Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("target_auctions_per_s", Math.round(rate));
            m.put("offered_auctions_per_s", Math.round(offered));
            m.put("scored_auctions_per_s", Math.round(scoredRate));
            m.put("backlog_auctions", backlog);
            m.put("scoring_candidates_per_cpu_s", Math.round(candidatesPerCpuSecond));
            m.put("batch_candidates", batchCandidates);
            m.put("job_redis_writes_per_s", Math.round(redisWritesPerSecond));
            m.put("scorer_watermark_delay_ms", watermarkDelayMs);
            m.put("scorer_input_delays_ms", inputDelaysMs);
            m.put("auctions_scored_at_max_wait", timedOut);
            m.put("kept_up", keptUp);
            return m;
        }
    }
}
