package org.ctrranker.jobs.parity;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.BoundedRun;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.jobs.replay.MindBehaviorsReader;
import org.ctrranker.jobs.replay.ReplayLog;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.Sample;
import org.ctrranker.models.StepFingerprint;
import org.ctrranker.models.eval.DataSets;
import org.ctrranker.models.eval.EvalData;
import org.ctrranker.models.eval.Evaluator;
import org.ctrranker.models.eval.LoggedAuction;
import org.ctrranker.models.eval.ModelLearner;
import org.ctrranker.models.eval.OnlineFeaturizer;
import org.ctrranker.models.metrics.Auc;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.scoring.ModelInputs;
import org.ctrranker.operators.scoring.OnlineConfig;
import org.ctrranker.operators.scoring.ProgressivePredictions;
import org.ctrranker.operators.scoring.ServingReader;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;
import redis.clients.jedis.UnifiedJedis;

/**
 * Does the trainer in the job agree with {@code bin/ctr evaluate}? Replays MIND behaviors through the real job
 * (Kafka in, bounded run in the mini cluster) and measures, over one slice of samples, three progressive
 * (predict-then-train) AUCs of the same model configuration (the job's {@code ctr.model.*}):
 *
 * <ol>
 *   <li><b>job</b>: the job's trainer, from its progressive-prediction log ({@link ProgressivePredictions}).
 *   <li><b>evaluate, job protocol</b>: evaluate's online loop ({@link Evaluator#online} with a
 *       {@link ModelLearner}) over the samples the job committed to {@code training-samples}, built into model
 *       inputs by {@link ModelInputs} and taken in the trainer's order (label time = impression time + W, then
 *       impression id), without the trainer's held-out slice, in its batch size. Same model, same data, same
 *       protocol: the two must agree.
 *   <li><b>evaluate, own features</b> (optional): evaluate as {@code bin/ctr evaluate --format mind} runs it
 *       (DataSets, OnlineFeaturizer: 5 id fields, 8 dense request-time features, TEM4CTR history known at
 *       once; the user's MIND history only as history), with the job's model configuration.
 * </ol>
 *
 * <p>The slice is evaluate's test split: the impressions of MIND rows at or after {@code testFromMs}. The
 * replay also writes each user's MIND history as clicked impressions before the user's first row (auction ids
 * {@code mind-h-*}) marked {@code backfill}: they feed the user's feedback state, and the trainer skips them,
 * as evaluate uses them only as history. The job protocol leaves them out likewise (and checks that every
 * committed backfill sample is one of them); the ablations report what training on them would score.
 */
public final class MindParity {

    /** Auction ids of the replayed history clicks ({@link MindBehaviorsReader}). */
    static final String HISTORY_PREFIX = "mind-h-";
    private static final AvroCodec<TrainingSample> SAMPLES = AvroCodec.forTopic(EventTopic.TRAINING_SAMPLES, TrainingSample.class);

    private MindParity() {}

    /**
     * @param jobSettings the job's settings (Kafka and Redis addresses included); the topics must be empty
     * @param ownFeatures also run evaluate's own MIND pipeline (about as long as the job protocol)
     */
    public static Map<String, Object> run(List<Path> behaviors, long testFromMs, Map<String, String> jobSettings,
            int parallelism, boolean ownFeatures, PrintStream log) throws Exception {
        return run(behaviors, testFromMs, jobSettings, parallelism, ownFeatures, false, log);
    }

    /**
     * @param ablations also measure, on evaluate's side, what two of the differences cost: the job protocol
     *     without training on the replayed history clicks, and evaluate's own features without its dense features
     */
    public static Map<String, Object> run(List<Path> behaviors, long testFromMs, Map<String, String> jobSettings,
            int parallelism, boolean ownFeatures, boolean ablations, PrintStream log) throws Exception {
        long started = System.nanoTime();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("files", behaviors.stream().map(Path::toString).toList());
        out.put("test_from_ms", testFromMs);

        ReplayLog replay = MindBehaviorsReader.read(behaviors);
        Map<String, String> settings = new HashMap<>(jobSettings);
        // The whole stream is logged (not only the slice) so that a divergence can be traced to its first sample.
        settings.put("ctr.training.prediction-log-from-ms", "0");
        CtrConfig config = CtrConfig.load(null, settings);
        long t0 = System.nanoTime();
        try (KafkaEventWriter writer = new KafkaEventWriter(config.string("ctr.kafka.bootstrap-servers"), Map.of(
                EventTopic.AD_AUCTIONS, config.string("ctr.topic.auctions"),
                EventTopic.AD_IMPRESSIONS, config.string("ctr.topic.impressions"),
                EventTopic.AD_CLICKS, config.string("ctr.topic.clicks")))) {
            for (GeneratedRecord record : replay.records()) {
                writer.accept(record);
            }
            writer.flush();
        }
        out.put("replay", replay.summary());
        out.put("replay_seconds", seconds(t0));
        log.printf(Locale.ROOT, "parity: replayed %s%n", replay.summary());

        t0 = System.nanoTime();
        BoundedRun.Outcome job = BoundedRun.execute(config, parallelism);
        out.put("job_seconds", seconds(t0));
        log.printf(Locale.ROOT, "parity: job %s%n", job.counts());
        Object logged = job.result().getAllAccumulatorResults().get(ProgressivePredictions.NAME);
        if (logged == null) {
            throw new IllegalStateException("the job logged no progressive predictions (no sample trained after "
                    + testFromMs + "?)");
        }
        @SuppressWarnings("unchecked")
        List<ProgressivePredictions.Scored> jobScored = (List<ProgressivePredictions.Scored>) logged;

        OnlineConfig online = OnlineConfig.fromSettings(config.asMap());
        List<TrainingSample> samples = committedSamples(config);
        out.put("samples_committed", samples.size());
        t0 = System.nanoTime();
        long backfill = samples.stream().filter(TrainingSample::getBackfill).count();
        long historySamples = samples.stream().filter(s -> s.getAuctionId().startsWith(HISTORY_PREFIX)).count();
        if (backfill != historySamples
                || samples.stream().anyMatch(s -> s.getBackfill() != s.getAuctionId().startsWith(HISTORY_PREFIX))) {
            throw new IllegalStateException(backfill + " committed samples are marked backfill, " + historySamples
                    + " come from replayed history auctions: they must be the same");
        }
        out.put("samples_backfill", backfill);
        out.put("job_samples_backfill", job.result().getAllAccumulatorResults().getOrDefault("samplesBackfill", 0L));
        out.put("job_scorer_backfill_auctions",
                job.result().getAllAccumulatorResults().getOrDefault("scorerBackfillAuctions", 0L));
        List<StepFingerprint> protocolSteps = new ArrayList<>();
        Map<String, Float> protocol = evaluateJobProtocol(samples, online, s -> !s.getBackfill(), protocolSteps::add);
        out.put("evaluate_job_protocol_seconds", seconds(t0));

        Map<String, Integer> labels = new HashMap<>();
        for (TrainingSample s : samples) {
            labels.put(s.getImpressionId(), s.getLabel());
        }
        Predicate<String> rows = id -> !id.startsWith(HISTORY_PREFIX);
        Map<String, Float> jobPredictions = new HashMap<>();
        for (ProgressivePredictions.Scored s : jobScored) {
            jobPredictions.put(s.impressionId(), s.prediction());
        }
        List<String> slice = new ArrayList<>();
        for (TrainingSample s : samples) {
            if (s.getImpressionTimeMs() >= testFromMs && protocol.containsKey(s.getImpressionId())
                    && rows.test(s.getAuctionId())) {
                slice.add(s.getImpressionId());
            }
        }
        if (!jobPredictions.keySet().equals(protocol.keySet())) {
            throw new IllegalStateException("the job scored " + jobPredictions.size() + " samples, the evaluation "
                    + protocol.size() + ": not the same samples");
        }
        firstDivergence(protocol, jobPredictions, online.trainingBatchSize(), versionCuts(config, online))
                .ifPresent(divergent -> out.put("first_divergent_sample", divergent));
        @SuppressWarnings("unchecked")
        List<StepFingerprint> jobSteps = (List<StepFingerprint>) job.result().getAllAccumulatorResults()
                .getOrDefault(ProgressivePredictions.STEP_FINGERPRINTS, List.of());
        out.put("training_steps_fingerprinted", Map.of("job", jobSteps.size(), "evaluate_job_protocol", protocolSteps.size()));
        firstDivergentStep(jobSteps, protocolSteps).ifPresent(divergent -> out.put("first_divergent_step", divergent));
        out.put("late_training_samples", job.result().getAllAccumulatorResults().getOrDefault("lateTrainingSamples", 0L));
        int positives = 0;
        for (String id : slice) {
            positives += labels.get(id);
        }
        double jobAuc = auc(slice, jobPredictions, labels);
        double protocolAuc = auc(slice, protocol, labels);
        out.put("slice", "impressions of MIND rows at or after the split (replayed history clicks excluded)");
        out.put("slice_samples", slice.size());
        out.put("slice_positives", positives);
        out.put("job_auc", round(jobAuc));
        out.put("evaluate_job_protocol_auc", round(protocolAuc));
        out.put("difference", round(jobAuc - protocolAuc));
        out.put("max_abs_prediction_difference", maxDifference(slice, jobPredictions, protocol));
        if (ownFeatures) {
            t0 = System.nanoTime();
            double own = evaluateOwnFeatures(behaviors, testFromMs, online, config);
            out.put("evaluate_own_features_auc", round(own));
            out.put("evaluate_own_features_seconds", seconds(t0));
            out.put("job_minus_evaluate_own_features", round(jobAuc - own));
        }
        if (ablations) {
            t0 = System.nanoTime();
            // what the job scored before history was marked backfill: trained on the replayed history clicks too
            Map<String, Float> withHistory = evaluateJobProtocol(samples, online, s -> true);
            out.put("evaluate_job_protocol_history_trained_auc", round(auc(slice, withHistory, labels)));
            out.put("evaluate_own_features_no_dense_auc", round(evaluateOwnFeaturesWithoutDense(behaviors, testFromMs, online)));
            out.put("ablation_seconds", seconds(t0));
            log.printf(Locale.ROOT, "parity: ablations %s%n", out);
        }
        out.put("model", online.modelConfig().toString());
        out.put("batch_size", online.trainingBatchSize());
        out.put("holdout_percent", online.gate().holdoutPercent());
        out.put("attribution_window_ms", online.attributionWindowMs());
        out.put("seconds", seconds(started));
        return out;
    }

    /** A version the trainer cut: its number and the samples trained by then. */
    record VersionCut(long version, long samplesTrained) {}

    /** The versions the job cut, from their metadata in Redis, oldest first. */
    private static List<VersionCut> versionCuts(CtrConfig config, OnlineConfig online) {
        try (UnifiedJedis jedis = RedisEndpoint.parse(config.string("ctr.redis.url"))
                .withPasswordIfAbsent(System.getenv(ConfiguredJobIO.REDIS_PASSWORD_ENV)).client()) {
            return ServingReader.versions(jedis, online.redisKeyPrefix(), online.modelName()).stream()
                    .map(v -> new VersionCut(v.version(), Long.parseLong(v.fields().get("samples_trained"))))
                    .toList();
        }
    }

    /**
     * Where the job's and the protocol's predictions first disagree, in the protocol's (the trainer's) order: equal
     * inputs in equal order give equal floats. With the batch it fell in and the last version cut before it, since a
     * parting right after a cut points at what a cut sets off in the job.
     */
    static Optional<Map<String, Object>> firstDivergence(Map<String, Float> protocol, Map<String, Float> job,
            int batchSize, List<VersionCut> cuts) {
        long index = 0;
        for (Map.Entry<String, Float> e : protocol.entrySet()) {
            if (Math.abs(e.getValue() - job.get(e.getKey())) > 1e-6) {
                Map<String, Object> divergent = new LinkedHashMap<>();
                divergent.put("index", index);
                divergent.put("impression_id", e.getKey());
                divergent.put("job", job.get(e.getKey()));
                divergent.put("evaluate", e.getValue());
                divergent.put("batch", index / batchSize);
                VersionCut last = null;
                for (VersionCut cut : cuts) {
                    if (cut.samplesTrained() <= index) {
                        last = cut;
                    }
                }
                if (last != null) {
                    divergent.put("after_version", last.version());
                    divergent.put("trained_since_that_cut", index - last.samplesTrained());
                }
                return Optional.of(divergent);
            }
            index++;
        }
        return Optional.empty();
    }

    /**
     * The first training step at which the job's trainer and the protocol's model part, and what parted there: the
     * state the step began from (then something changed the model between steps), its inputs (then the samples or
     * their encoding differ), its logits (the same state and inputs gave another forward pass) or only the state it
     * left (the backward pass or the optimiser). Empty when every step compared matches and both took as many.
     */
    static Optional<Map<String, Object>> firstDivergentStep(List<StepFingerprint> job, List<StepFingerprint> protocol) {
        int common = Math.min(job.size(), protocol.size());
        for (int i = 0; i <= common; i++) {
            if (i == common && job.size() == protocol.size()) {
                return Optional.empty();
            }
            StepFingerprint a = i < job.size() ? job.get(i) : null;
            StepFingerprint b = i < protocol.size() ? protocol.get(i) : null;
            if (a != null && a.equals(b)) {
                continue;
            }
            Map<String, Object> divergent = new LinkedHashMap<>();
            divergent.put("step", i);
            if (a == null || b == null) {
                divergent.put("only_one_took_it", a == null ? "evaluate_job_protocol" : "job");
                return Optional.of(divergent);
            }
            divergent.put("rows", a.rows() == b.rows() ? a.rows() : a.rows() + " (job) vs " + b.rows());
            divergent.put("state_before", same(a.stateBefore(), b.stateBefore()));
            divergent.put("inputs", same(a.inputs(), b.inputs()));
            divergent.put("logits", same(a.logits(), b.logits()));
            divergent.put("state_after", same(a.stateAfter(), b.stateAfter()));
            divergent.put("optimizer_after", same(a.optimizerAfter(), b.optimizerAfter()));
            return Optional.of(divergent);
        }
        return Optional.empty();
    }

    private static String same(long a, long b) {
        return a == b ? "same" : "different";
    }

    /**
     * Evaluate's online loop over the job's samples in the trainer's order, less the held-out slice: returns the
     * progressive prediction of every sample it scored, by impression id, in the order scored. {@code train} picks the samples the
     * learner sees at all (the others are neither scored nor learnt).
     */
    public static Map<String, Float> evaluateJobProtocol(List<TrainingSample> samples, OnlineConfig online,
            Predicate<TrainingSample> train) {
        return evaluateJobProtocol(samples, online, train, null);
    }

    /** As above; {@code steps}, when not null, gets every training step's fingerprint. */
    static Map<String, Float> evaluateJobProtocol(List<TrainingSample> samples, OnlineConfig online,
            Predicate<TrainingSample> train, Consumer<StepFingerprint> steps) {
        List<TrainingSample> ordered = new ArrayList<>();
        for (TrainingSample s : samples) {
            if (!online.gate().isHeldOut(s.getImpressionId()) && train.test(s)) {
                ordered.add(s);
            }
        }
        ordered.sort(Comparator.comparingLong(TrainingSample::getLabelTimeMs)
                .thenComparing(TrainingSample::getImpressionId).thenComparing(TrainingSample::getSampleId));
        List<List<Sample>> groups = new ArrayList<>(ordered.size());
        for (TrainingSample s : ordered) {
            groups.add(List.of(ModelInputs.sample(s)));
        }
        EvalData data = new EvalData("job-protocol", groups, 0, ModelInputs.SPARSE_FIELDS, ModelInputs.DENSE_FEATURES,
                ModelInputs.SCENARIO_FIELDS, new double[0]);
        Evaluator.Result result;
        try (ModelLearner learner = new ModelLearner("job-protocol", online.modelConfig(), online.trainingBatchSize())) {
            learner.model().fingerprintSteps(steps);
            result = Evaluator.online(learner, data);
        }
        Map<String, Float> predictions = new LinkedHashMap<>();
        for (int i = 0; i < ordered.size(); i++) {
            predictions.put(ordered.get(i).getImpressionId(), result.testPredictions()[i]);
        }
        return predictions;
    }

    /** {@code bin/ctr evaluate --format mind --models full}'s online AUC with the job's model settings. */
    static double evaluateOwnFeatures(List<Path> behaviors, long testFromMs, OnlineConfig online, CtrConfig config)
            throws IOException {
        List<LoggedAuction> log = DataSets.mind(behaviors, testFromMs);
        ModelConfig job = online.modelConfig();
        EvalData data = OnlineFeaturizer.build("mind", log, job.historyLength(), job.slotsPerClick());
        ModelConfig model = job.toBuilder().sparseFields(data.sparseFields()).denseFeatures(data.denseFeatures())
                .scenarioFields(data.scenarioFields()).targetField(1).build();
        try (ModelLearner learner = new ModelLearner("full", model, online.trainingBatchSize())) {
            return Evaluator.online(learner, data).auc();
        }
    }

    /** As {@link #evaluateOwnFeatures}, with the dense features left out (the job has none). */
    static double evaluateOwnFeaturesWithoutDense(List<Path> behaviors, long testFromMs, OnlineConfig online)
            throws IOException {
        ModelConfig job = online.modelConfig();
        EvalData full = OnlineFeaturizer.build("mind", DataSets.mind(behaviors, testFromMs), job.historyLength(),
                job.slotsPerClick());
        List<List<Sample>> groups = new ArrayList<>(full.groups().size());
        for (List<Sample> group : full.groups()) {
            List<Sample> stripped = new ArrayList<>(group.size());
            for (Sample s : group) {
                stripped.add(new Sample(new org.ctrranker.models.Features(s.features().ids(), null, s.features().position()),
                        s.history(), s.label(), s.bid(), s.marketPrice(), s.scenario(), s.weight(), s.fakeNegativeCorrection()));
            }
            groups.add(stripped);
        }
        EvalData data = new EvalData("mind-no-dense", groups, full.testFrom(), full.sparseFields(), 0,
                full.scenarioFields(), full.trueCtr());
        ModelConfig model = job.toBuilder().sparseFields(data.sparseFields()).denseFeatures(0)
                .scenarioFields(data.scenarioFields()).targetField(1).build();
        try (ModelLearner learner = new ModelLearner("no-dense", model, online.trainingBatchSize())) {
            return Evaluator.online(learner, data).auc();
        }
    }

    /** The samples the job committed (read_committed, the whole topic). */
    static List<TrainingSample> committedSamples(CtrConfig config) throws IOException {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.string("ctr.kafka.bootstrap-servers"));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        String topic = config.string("ctr.topic.training-samples");
        List<TrainingSample> samples = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    samples.add(SAMPLES.decode(record.value()));
                }
            }
        }
        return samples;
    }

    private static double auc(List<String> ids, Map<String, Float> predictions, Map<String, Integer> labels) {
        double[] p = new double[ids.size()];
        int[] y = new int[ids.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = predictions.get(ids.get(i));
            y[i] = labels.get(ids.get(i));
        }
        return Auc.of(p, y);
    }

    private static double maxDifference(List<String> ids, Map<String, Float> a, Map<String, Float> b) {
        double max = 0;
        for (String id : ids) {
            max = Math.max(max, Math.abs(a.get(id) - b.get(id)));
        }
        return max;
    }

    private static double seconds(long fromNanos) {
        return Math.round((System.nanoTime() - fromNanos) / 1e8) / 10.0;
    }

    private static double round(double v) {
        return Math.round(v * 1e5) / 1e5;
    }
}
