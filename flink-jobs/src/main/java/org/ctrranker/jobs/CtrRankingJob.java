package org.ctrranker.jobs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.io.JobSinks;
import org.ctrranker.jobs.io.JobSources;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.operators.features.AieConfig;
import org.ctrranker.operators.features.AuctionStatistics;
import org.ctrranker.operators.features.FeedbackConfig;
import org.ctrranker.operators.features.ItemCountsMirror;
import org.ctrranker.operators.features.ItemStatistics;
import org.ctrranker.operators.features.ItemStatisticsConfig;
import org.ctrranker.operators.features.SampleFeedback;
import org.ctrranker.operators.features.UserFeatures;
import org.ctrranker.operators.ingest.EventTimes;
import org.ctrranker.operators.ingest.SplitDeadLetters;
import org.ctrranker.operators.joins.AuctionImpressionJoin;
import org.ctrranker.operators.joins.ClickAttribution;
import org.ctrranker.operators.joins.FeedbackRejoin;
import org.ctrranker.operators.joins.JoinConfig;
import org.ctrranker.operators.joins.JoinOutputs;
import org.ctrranker.operators.joins.UnattributedClicks;
import org.ctrranker.operators.kafka.TransactionTimeouts;
import org.ctrranker.operators.metrics.CountingMap;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.runtime.MergedStreams;
import org.ctrranker.operators.scoring.ModelUpdate;
import org.ctrranker.operators.scoring.OnlineConfig;
import org.ctrranker.operators.scoring.OnlineStages;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.schemas.EventTopic;

/**
 * The ctr-ranking job: Kafka inputs in event time, auction-impression join, the ad's counts as of each
 * auction (item statistics), the user's TEM4CTR feedback snapshot as of each impression, click attribution, AIE market-price target and BCM
 * weight; labelled samples and dead letters to Kafka, serving features to Redis; online training on
 * the labelled samples (keyed by model) and micro-batched scoring of every auction (keyed by user) with
 * the live version, scores to Kafka and rankings to Redis. Sources and sinks are arguments, so tests and tools
 * inject their own.
 *
 * <p>Run it with {@code --config FILE} and {@code --set key=value} (see ctr-ranker-defaults.properties).
 */
public final class CtrRankingJob {

    public static final String JOB_NAME = "ctr-ranking";
    private static final String WATERMARK_GROUP = "ctr-inputs";
    /** The scorer's own reader of the auctions ({@link JobSources#auctionsToScore}). */
    private static final String SCORING_INPUT = "-scoring";

    private CtrRankingJob() {}

    public static void main(String[] args) throws Exception {
        CtrConfig config = CtrConfig.fromArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        ConfiguredJobIO io = new ConfiguredJobIO(config, false);
        checkTransactionTimeout(config);
        define(env, config, io, io);
        env.execute(JOB_NAME);
    }

    /** Fails early when the exactly-once sinks' transaction timeout exceeds what the brokers allow. */
    public static void checkTransactionTimeout(CtrConfig config) {
        TransactionTimeouts.requireWithinBrokerMaximum(config.string("ctr.kafka.bootstrap-servers"),
                config.longValue("ctr.kafka.transaction-timeout-ms"), "ctr.kafka.transaction-timeout-ms");
    }

    /**
     * Defines the job on a throwaway environment configured as {@code flink}: a setting the stages refuse fails here
     * with its message, before anything starts.
     */
    public static void checkSettings(CtrConfig config, Configuration flink) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        ConfiguredJobIO io = new ConfiguredJobIO(config, false);
        define(env, config, io, io);
    }

    /** Adds the job's pipeline to {@code env}, checkpointing included. */
    public static void define(StreamExecutionEnvironment env, CtrConfig config, JobSources sources, JobSinks sinks) {
        env.enableCheckpointing(config.longValue("ctr.checkpoint.interval-ms"), CheckpointingMode.EXACTLY_ONCE);
        // No operator changes or keeps a record it has passed on, so chained operators can share them.
        env.getConfig().enableObjectReuse();
        // The one setting read inside tasks outside a stage's own config: every background stage applies it.
        env.getConfig().setGlobalJobParameters(Configuration.fromMap(Map.of(BackgroundPriority.SETTING,
                BackgroundPriority.text(BackgroundPriority.level(config.string(BackgroundPriority.SETTING))))));
        Configuration checkpoints = new Configuration();
        String checkpointDir = config.string("ctr.checkpoint.dir");
        if (!checkpointDir.isEmpty()) {
            checkpoints.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            checkpoints.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir);
        }
        // Flink 2.2 restores uncompressed state through a stream without a bulk read, one read() call (on a
        // local or mounted file system, one system call) per byte: the trainer's and scorers' ~66 MB of models
        // took 30 s to restore here, over a minute on a loaded machine, while no checkpoint could complete.
        // Compressed state is read through the decompressor's buffer.
        checkpoints.set(ExecutionOptions.SNAPSHOT_COMPRESSION, true);
        long alignedTimeoutMs = config.longValue("ctr.checkpoint.aligned-timeout-ms");
        if (alignedTimeoutMs >= 0) {
            // When the trainer or the scorer backpressures, aligned barriers queue behind the in-flight
            // records at every hop and checkpoints stop completing; after the timeout they overtake them
            // (the records go into the checkpoint), and a barrier need not wait for a long run of timers.
            checkpoints.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
            checkpoints.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, Duration.ofMillis(alignedTimeoutMs));
            checkpoints.set(CheckpointingOptions.ENABLE_UNALIGNED_INTERRUPTIBLE_TIMERS, true);
        }
        env.configure(checkpoints);
        long bufferTimeoutMs = config.longValue("ctr.pipeline.buffer-timeout-ms");
        if (bufferTimeoutMs >= 0) {
            env.setBufferTimeout(bufferTimeoutMs);
        }
        JoinConfig joins = JobSettings.joins(config);

        SingleOutputStreamOperator<AdAuction> auctions =
                input(env, config, sources.auctions(), EventTopic.AD_AUCTIONS, AdAuction.class);
        SingleOutputStreamOperator<AdImpression> impressions =
                input(env, config, sources.impressions(), EventTopic.AD_IMPRESSIONS, AdImpression.class);
        SingleOutputStreamOperator<AdClick> clicks =
                input(env, config, sources.clicks(), EventTopic.AD_CLICKS, AdClick.class);
        // Not in the watermark alignment group: alignment pauses a reader that runs ahead of the slowest input
        // (bench e2e: scoring stopped for 2 to 3 s at a time while the clicks caught up). Its dead letters are
        // the auctions input's again: only that input's go to the dead-letter topic.
        SingleOutputStreamOperator<AdAuction> auctionsToScore = input(env, config, sources.auctionsToScore(),
                EventTopic.AD_AUCTIONS, AdAuction.class, SCORING_INPUT, false);

        SingleOutputStreamOperator<TrainingSample> impressionSamples = auctions.connect(impressions)
                .keyBy(AdAuction::getAuctionId, AdImpression::getAuctionId)
                .process(new AuctionImpressionJoin(joins), AvroTypeInfo.forRecord(TrainingSample.class))
                .uid("auction-impression-join").name("auction-impression join");

        SingleOutputStreamOperator<TrainingSample> withItemCounts =
                ItemStatistics.attach(impressionSamples, clicks, ItemStatisticsConfig.fromSettings(config.asMap()));
        FeedbackConfig feedback = FeedbackConfig.fromSettings(config.asMap());
        SingleOutputStreamOperator<TrainingSample> feedbackStage =
                JobSettings.parkFeedback(config, env.getConfiguration().get(StateBackendOptions.STATE_BACKEND))
                        ? UserFeatures.attachDetached(withItemCounts, clicks, feedback)
                        : UserFeatures.attach(withItemCounts, clicks, feedback);

        SingleOutputStreamOperator<TrainingSample> labelled = feedbackStage.connect(clicks)
                .keyBy(TrainingSample::getImpressionId, AdClick::getImpressionId)
                .process(new ClickAttribution(joins), AvroTypeInfo.forRecord(TrainingSample.class))
                .uid("click-attribution").name("click attribution");
        // Attribution holds each impression for its window: parked (ctr.attribution.park-feedback), without its
        // feedback snapshot, which waits keyed by user as a delta from the user's previous one and is put back here.
        // The stage is in the graph either way (samples with feedback pass), so a restore may switch the setting.
        SingleOutputStreamOperator<TrainingSample> labelledWithFeedback = labelled
                .connect(UserFeatures.feedbackForLabelledSamples(feedbackStage))
                .keyBy(TrainingSample::getUserId, SampleFeedback::getUserId)
                .process(new FeedbackRejoin(joins), AvroTypeInfo.forRecord(TrainingSample.class))
                .uid("feedback-rejoin").name("labelled samples + their feedback");

        SingleOutputStreamOperator<TrainingSample> samples =
                AuctionStatistics.attach(labelledWithFeedback, AieConfig.fromSettings(config.asMap()));
        samples.sinkTo(sinks.trainingSamples()).uid("training-samples-sink").name("training-samples");

        OnlineConfig online = OnlineConfig.fromSettings(config.asMap());
        SingleOutputStreamOperator<ModelUpdate> models = OnlineStages.train(samples, online);
        SingleOutputStreamOperator<CtrScore> scores = OnlineStages.score(auctionsToScore,
                UserFeatures.forScoring(feedbackStage), models, ItemStatistics.ticks(withItemCounts), online);
        // Not chained to the scorer: at every checkpoint the exactly-once writer flushes and opens its next
        // transaction (initTransactions) and its committer commits the last one, each a broker round trip that
        // would stop scoring on the task thread they share (50 to 100 ms per checkpoint in bench e2e).
        scores.sinkTo(sinks.scores()).uid("ctr-scores-sink").name("ctr-scores").disableChaining();

        // Keyed, not forwarded: a pointwise input would make Flink align all of the writer's inputs, and the
        // rankings would wait at every checkpoint for the barrier behind the trainer's model writes.
        List<DataStream<VersionedWrite>> servingWrites = new ArrayList<>(List.of(UserFeatures.mirrorWrites(feedbackStage),
                AuctionStatistics.publications(samples), OnlineStages.redisWrites(scores)));
        if (ItemCountsMirror.enabled(config.asMap())) {
            servingWrites.add(
                    ItemStatistics.mirrorWrites(withItemCounts, ItemCountsMirror.fromSettings(config.asMap())));
        }
        MergedStreams.of("serving writes", "serving-writes", servingWrites.stream()
                        .<DataStream<VersionedWrite>>map(writes -> writes.keyBy(write -> write.key, Types.STRING))
                        .toList())
                .sinkTo(sinks.redis()).uid("redis-sink").name("serving state -> Redis");
        // A writer of their own: a version's parameters (up to 10 MB at the defaults) in the rankings' pipeline held
        // every ranking sent with or after it until Redis had taken them (bench e2e with a version every 2,000
        // samples: scored-to-Redis p99 383 ms). Keyed, so the trainer's thread never waits on Redis at a checkpoint; by
        // model, so one writer puts each version's keys in order (parameters, then :v<n>, then :current).
        models.keyBy(update -> update.modelName, Types.STRING)
                .sinkTo(sinks.modelVersions()).uid("model-redis-sink").name("model versions -> Redis");

        AvroTypeInfo<DeadLetter> deadLetterType = AvroTypeInfo.forRecord(DeadLetter.class);
        DataStream<DeadLetter> deadLetters = MergedStreams.of("dead letters in", "dead-letters-in",
                auctions.getSideOutput(SplitDeadLetters.DEAD_LETTERS),
                impressions.getSideOutput(SplitDeadLetters.DEAD_LETTERS),
                        clicks.getSideOutput(SplitDeadLetters.DEAD_LETTERS),
                        impressionSamples.getSideOutput(JoinOutputs.DEAD_LETTERS),
                        labelled.getSideOutput(JoinOutputs.DEAD_LETTERS),
                        labelled.getSideOutput(JoinOutputs.LATE_CLICKS)
                                .map(new UnattributedClicks("late click: after the attribution window"), deadLetterType)
                                .uid("late-clicks").name("late clicks"),
                        labelled.getSideOutput(JoinOutputs.ORPHAN_CLICKS)
                                .map(new UnattributedClicks("orphan click: its impression never came"), deadLetterType)
                                .uid("orphan-clicks").name("orphan clicks"),
                        labelled.getSideOutput(JoinOutputs.DUPLICATE_CLICKS)
                                .map(new UnattributedClicks("duplicate click: the impression was already clicked"),
                                        deadLetterType)
                                .uid("duplicate-clicks").name("duplicate clicks"));
        deadLetters.map(new CountingMap<DeadLetter>("deadLetters"), deadLetterType).uid("count-dead-letters")
                .name("count dead letters")
                .sinkTo(sinks.deadLetters()).uid("dead-letters-sink").name("dead-letters");
    }

    private static <T extends SpecificRecord> SingleOutputStreamOperator<T> input(StreamExecutionEnvironment env,
            CtrConfig config, Source<Either<DeadLetter, T>, ?, ?> source, EventTopic topic, Class<T> type) {
        return input(env, config, source, topic, type, "", true);
    }

    /**
     * {@code suffix} tells a second reader of one topic apart (its uids, name and counters); {@code aligned}: the
     * reader joins the watermark alignment group ({@code ctr.watermark.max-drift-ms}).
     */
    private static <T extends SpecificRecord> SingleOutputStreamOperator<T> input(StreamExecutionEnvironment env,
            CtrConfig config, Source<Either<DeadLetter, T>, ?, ?> source, EventTopic topic, Class<T> type, String suffix,
            boolean aligned) {
        WatermarkStrategy<Either<DeadLetter, T>> watermarks = WatermarkStrategy
                .<Either<DeadLetter, T>>forBoundedOutOfOrderness(JobSettings.millis(config, "ctr.watermark.max-out-of-orderness-ms"))
                .withTimestampAssigner(EventTimes.assigner());
        long idlenessMs = config.longValue("ctr.watermark.idleness-ms");
        if (idlenessMs > 0) {
            watermarks = watermarks.withIdleness(Duration.ofMillis(idlenessMs));
        }
        long maxDriftMs = config.longValue("ctr.watermark.max-drift-ms");
        if (maxDriftMs > 0 && aligned) {
            watermarks = watermarks.withWatermarkAlignment(WATERMARK_GROUP, Duration.ofMillis(maxDriftMs), Duration.ofSeconds(1));
        }
        String name = topic.defaultName() + suffix;
        return env.fromSource(source, watermarks, name).uid("source-" + name)
                // only the scorers' own auctions input is on the scoring path; the others feed work with slack
                .process(new SplitDeadLetters<T>(name, aligned), AvroTypeInfo.forRecord(type))
                .uid("decode-" + name).name("valid " + name);
    }
}
