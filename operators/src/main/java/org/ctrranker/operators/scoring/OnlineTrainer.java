package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.Sample;
import org.ctrranker.models.StepFingerprint;
import org.ctrranker.operators.features.EventTimeBuffer;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.EarlierStateFormat;
import org.ctrranker.operators.serde.SharedValueSerializer;

/**
 * Incremental training, keyed by model name, whose output is a pure function of the labelled samples:
 * the same versions, with the same parameters, metrics and timestamps, whatever order the parallel
 * upstream subtasks deliver the samples in and whatever restarts happen.
 *
 * <ul>
 *   <li>Order: samples wait in keyed state until the watermark passes their label time, then are handled
 *       by label time, impression id and sample id. A sample arriving after the watermark passed its label
 *       time (upstream emits none; counted as {@code lateTrainingSamples}) is handled at the next
 *       watermark, which is as deterministic as its lateness.
 *   <li>Training: mini-batches of {@code ctr.training.batch-size}, each scored before the model trains on
 *       it (progressive validation over the last {@code ctr.training.metrics-window} samples). Samples of
 *       the held-out slice ({@link QualityGate}) are never trained on; the newest
 *       {@code ctr.training.holdout-window} of them are kept for the gate. Backfill samples (replayed
 *       history, {@code TrainingSample.backfill}) are dropped on arrival, counted as {@code samplesBackfill}:
 *       never trained on, scored or held out.
 *   <li>Versions: cut after every {@code ctr.training.publish-every-samples} trained samples and when a
 *       bounded input ends, emitted from the event-time timer that completed them, with that timer's time
 *       as record timestamp and {@link ModelUpdate#eventTimeMs} (so never behind the output watermark).
 *       Each is judged by the {@link QualityGate} against the live version; rejected ones keep their
 *       number but do not go live. Training goes on from the candidate either way.
 *   <li>State: the model's training checkpoint (Adam's moments included), the live version's parameters,
 *       counters, metric window and the unfinished batch in union operator state (whichever subtask owns the
 *       key after a rescale takes it); the waiting samples and the held-out window are keyed state. A restore
 *       continues exactly where the checkpoint was.
 * </ul>
 */
public final class OnlineTrainer extends KeyedProcessFunction<String, TrainingSample, ModelUpdate>
        implements CheckpointedFunction, CheckpointListener {

    private static final long serialVersionUID = 1L;
    private static final long END_OF_INPUT = Long.MAX_VALUE;
    /** Handling order of samples due at the same event time; sample id separates a fake-negative pair. */
    static final Comparator<TrainingSample> ORDER =
            Comparator.comparing(TrainingSample::getImpressionId).thenComparing(TrainingSample::getSampleId);

    private final OnlineConfig config;

    /** Chaos testing: an injected failure waits for a completed checkpoint. */
    private transient boolean checkpointCompleted;
    private transient CtrModel model;
    private transient CtrModel liveModel;
    private transient TrainerState state;
    private transient ListState<TrainerState> stateStore;
    private transient EventTimeBuffer waiting;
    private transient EarlierStateFormat earlierFormat;
    /**
     * The unfinished batch, on the owner; checkpointed in {@link #pendingStore}. Kept out of keyed state, where on
     * RocksDB every sample of every batch was encoded and decoded once more.
     */
    private transient List<TrainingSample> pending;
    private transient ListState<TrainingSample> pendingStore;
    /** Where the unfinished batch was kept before (keyed state): moved into {@link #pending} at the first keyed call. */
    private transient ListState<TrainingSample> keyedPending;
    private transient boolean keyedPendingMoved;
    private transient boolean endOfInputTimerSet;
    private transient HoldoutWindow holdout;
    /** Whether the model trained since {@link TrainerState#checkpoint} was taken (a checkpoint is tens of MB). */
    private transient boolean checkpointStale;
    private transient boolean owner;
    private transient JobCounter versionsCut;
    private transient JobCounter versionsRejected;
    private transient JobCounter samplesHeldOut;
    private transient JobCounter samplesTrained;
    private transient JobCounter samplesBackfill;
    private transient JobCounter lateSamples;
    /** Opt-in diagnostics: the progressive predictions of trained samples (null when off). */
    private transient TrainerLog<ProgressivePredictions.Scored> predictionLog;
    /** Held-out samples the gate had the live version predict (each once per live version, not once per candidate). */
    private transient LongCounter livePredictionsMade;
    private transient double lastHoldoutAuc;
    private transient long lastPublishMillis;

    public OnlineTrainer(OnlineConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // Union state: whichever subtask owns the model's key after a restore (parallelism may change)
        // finds the model there; only that subtask writes it back.
        stateStore = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("trainer",
                        new SharedValueSerializer<>(getRuntimeContext().createSerializer(TypeInformation.of(TrainerState.class)))));
        var task = getRuntimeContext().getTaskInfo();
        owner = KeyGroupRangeAssignment.assignKeyToParallelOperator(config.modelName(),
                task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks()) == task.getIndexOfThisSubtask();
        pendingStore = context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("trainer-batch",
                SharedValueSerializer.of(getRuntimeContext(), TrainingSample.class)));
        earlierFormat = EarlierStateFormat.withoutTimeToLive();
        earlierFormat.initialize(context);
        state = null;
        pending = new ArrayList<>();
        if (owner) {
            for (TrainerState restored : stateStore.get()) {
                if (state == null || restored.version > state.version
                        || (restored.version == state.version && restored.samplesTrained > state.samplesTrained)) {
                    state = restored;
                }
            }
            // Only the owner writes the batch, so the union holds its samples alone, in the order it took them.
            pendingStore.get().forEach(pending::add);
        }
    }

    @Override
    public void open(OpenContext openContext) {
        BackgroundPriority.lower(getRuntimeContext());
        DjlRuntime.prepare();
        waiting = EventTimeBuffer.ofTrainer(getRuntimeContext(), "trainer-waiting", earlierFormat);
        keyedPending = getRuntimeContext().getListState(
                new ListStateDescriptor<>("trainer-pending", SharedValueSerializer.of(getRuntimeContext(), TrainingSample.class)));
        keyedPendingMoved = false;
        holdout = new HoldoutWindow(getRuntimeContext(), config.gate().holdoutWindow(), earlierFormat);
        if (state != null) {
            if (state.checkpoint != null && !RestoredModelShape.fits(state.checkpoint, "the trainer's model", config)) {
                state.checkpoint = null; // version numbers go on from where they were
            }
            if (state.liveParameters != null
                    && !RestoredModelShape.fits(state.liveParameters, "the live version", config)) {
                state.liveParameters = null;
                state.liveVersion = 0; // the scorers drop it too and serve the initial weights
            }
        }
        model = CtrModel.create(config.modelConfig());
        // Until a version goes live the scorers serve the initial weights (version 0): the gate compares against them.
        liveModel = CtrModel.create(config.modelConfig());
        if (state == null) {
            state = TrainerState.fresh(config.metricsWindow());
        } else {
            if (state.checkpoint != null) {
                model.restoreCheckpoint(state.checkpoint);
            }
            if (state.liveParameters != null) {
                liveModel.restore(state.liveParameters);
            }
        }
        checkpointStale = false;
        lastHoldoutAuc = Double.NaN;
        versionsCut = JobCounter.register(getRuntimeContext(), "modelVersions");
        versionsRejected = JobCounter.register(getRuntimeContext(), "modelVersionsRejected");
        samplesTrained = JobCounter.register(getRuntimeContext(), "samplesTrained");
        samplesHeldOut = JobCounter.register(getRuntimeContext(), "samplesHeldOut");
        samplesBackfill = JobCounter.register(getRuntimeContext(), "samplesBackfill");
        lateSamples = JobCounter.register(getRuntimeContext(), "lateTrainingSamples");
        livePredictionsMade = new LongCounter();
        getRuntimeContext().addAccumulator("gateLivePredictions", livePredictionsMade);
        predictionLog = null;
        if (config.predictionLogFromMs() != Long.MAX_VALUE) {
            predictionLog = new TrainerLog<>();
            getRuntimeContext().addAccumulator(ProgressivePredictions.NAME, predictionLog);
            TrainerLog<StepFingerprint> steps = new TrainerLog<>();
            getRuntimeContext().addAccumulator(ProgressivePredictions.STEP_FINGERPRINTS, steps);
            model.fingerprintSteps(steps::add);
        }
        var metrics = getRuntimeContext().getMetricGroup();
        metrics.gauge("modelVersion", () -> state.version);
        metrics.gauge("liveModelVersion", () -> state.liveVersion);
        metrics.gauge("progressiveAuc", () -> state.lastAuc);
        metrics.gauge("progressiveLogLoss", () -> state.lastLogLoss);
        metrics.gauge("holdoutAuc", () -> lastHoldoutAuc);
        metrics.gauge("publishAndGateMillis", () -> lastPublishMillis);
    }

    @Override
    public void processElement(TrainingSample sample, Context ctx, Collector<ModelUpdate> out) throws Exception {
        if (sample.getBackfill()) {
            // Replayed history: it fed the user's feature state upstream; never trained on, held out or scored.
            samplesBackfill.inc();
            return;
        }
        moveKeyedPending();
        long due = sample.getLabelTimeMs();
        long watermark = ctx.timerService().currentWatermark();
        if (due <= watermark) {
            // A timer at or before the watermark would fire late and cut versions behind the output watermark.
            state.lateSamples++;
            lateSamples.inc();
            due = watermark == END_OF_INPUT ? END_OF_INPUT : watermark + 1;
        }
        waiting.add(due, sample, ctx.timerService());
        if (!endOfInputTimerSet) {
            // Fires once, when a bounded input ends: the last partial batch is trained and published. Once per run
            // (a restore brings the timer back): on RocksDB a timer it already holds costs a write once it lies
            // past the timer queue's cache, and this one is last in the order.
            ctx.timerService().registerEventTimeTimer(END_OF_INPUT);
            endOfInputTimerSet = true;
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ModelUpdate> out) throws Exception {
        moveKeyedPending();
        for (TrainingSample sample : waiting.take(timestamp, ORDER)) {
            handle(sample, timestamp, out);
        }
        if (timestamp == END_OF_INPUT) {
            trainPending();
            if (state.samplesSincePublish > 0) {
                publish(timestamp, out);
            }
        }
    }

    /**
     * A checkpoint written before the batch moved to operator state holds it in keyed state, readable only under the
     * key: it goes ahead of anything taken since (nothing, unless a checkpoint came before the first keyed call).
     */
    private void moveKeyedPending() throws Exception {
        if (keyedPendingMoved) {
            return;
        }
        List<TrainingSample> earlier = new ArrayList<>();
        keyedPending.get().forEach(earlier::add);
        if (!earlier.isEmpty()) {
            pending.addAll(0, earlier);
            keyedPending.clear();
        }
        keyedPendingMoved = true;
    }

    private void handle(TrainingSample sample, long now, Collector<ModelUpdate> out) throws Exception {
        if (config.gate().isHeldOut(sample.getImpressionId())) {
            holdout.add(state.heldOut++, sample);
            samplesHeldOut.inc();
            return;
        }
        pending.add(sample);
        state.pendingSamples++;
        if (state.pendingSamples >= config.trainingBatchSize()) {
            trainPending();
            if (state.samplesSincePublish >= config.publishEverySamples()) {
                publish(now, out);
            }
        }
    }

    private void trainPending() throws Exception {
        List<Sample> batch = new ArrayList<>(config.trainingBatchSize());
        List<TrainingSample> originals = new ArrayList<>(config.trainingBatchSize());
        for (TrainingSample s : pending) {
            batch.add(ModelInputs.sample(s));
            originals.add(s);
            state.newestSampleTimeMs = Math.max(state.newestSampleTimeMs, s.getLabelTimeMs());
        }
        if (batch.isEmpty()) {
            return;
        }
        // the training step's own forward pass, so a batch costs one pass (the same bits as predict, then train)
        float[] predicted = model.predictThenTrain(batch);
        for (int i = 0; i < predicted.length; i++) {
            state.record(predicted[i], batch.get(i).label());
            TrainingSample s = originals.get(i);
            if (predictionLog != null && s.getImpressionTimeMs() >= config.predictionLogFromMs()) {
                predictionLog.add(new ProgressivePredictions.Scored(s.getImpressionId(), s.getImpressionTimeMs(),
                        s.getLabelTimeMs(), predicted[i], batch.get(i).label()));
            }
        }
        checkpointStale = true;
        state.samplesTrained += batch.size();
        state.samplesSincePublish += batch.size();
        for (int i = 0; i < batch.size(); i++) {
            samplesTrained.inc();
        }
        pending.clear();
        state.pendingSamples = 0;
        failIfInjected();
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        checkpointCompleted = true;
        // A bounded input's samples can all arrive in one burst, trained before any checkpoint completed (CI,
        // OnlineFailoverIT): past the count, the trainer fails now, right after the checkpoint it restores.
        failIfInjected();
    }

    /**
     * Chaos testing ({@code ctr.fault-injection.trainer-fail-after-samples}): on the first attempt only, at the
     * first batch from that count on after a checkpoint has completed, or at the first completed checkpoint after
     * that count, so the restart really restores one.
     */
    private void failIfInjected() {
        long failAfter = config.trainerFailAfterSamples();
        if (failAfter > 0 && state.samplesTrained >= failAfter && checkpointCompleted
                && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0) {
            throw new IllegalStateException("injected failure: the trainer has trained " + state.samplesTrained
                    + " samples (ctr.fault-injection.trainer-fail-after-samples=" + failAfter + "; first attempt only)");
        }
    }

    /** Cuts the next version at event time {@code cutAt}, judges it, and emits it (timestamped {@code cutAt}). */
    private void publish(long cutAt, Collector<ModelUpdate> out) throws Exception {
        long started = System.nanoTime();
        state.version++;
        state.samplesSincePublish = 0;
        state.updateMetrics();
        byte[] parameters = model.snapshot();
        List<Sample> samples = holdout.newestInputs(state.heldOut);
        int[] labels = new int[samples.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = samples.get(i).label() != 0 ? 1 : 0;
        }
        float[] candidatePredictions = model.predict(samples);
        float[] livePredictions = holdout.livePredictions(state.heldOut, missing -> {
            livePredictionsMade.add((long) missing.size());
            return liveModel.predict(missing);
        });
        QualityGate.Decision decision = config.gate().decide(candidatePredictions, livePredictions, labels);
        if (decision.live()) {
            liveModel.restore(parameters);
            holdout.replaceLivePredictions(state.heldOut, candidatePredictions);
            state.liveParameters = parameters;
            state.liveVersion = state.version;
        } else {
            versionsRejected.inc();
        }
        versionsCut.inc();
        out.collect(update(cutAt, parameters, decision));
        lastHoldoutAuc = decision.candidateAuc();
        lastPublishMillis = (System.nanoTime() - started) / 1_000_000;
    }

    private ModelUpdate update(long cutAt, byte[] parameters, QualityGate.Decision decision) {
        ModelUpdate update = new ModelUpdate();
        update.modelName = config.modelName();
        update.version = state.version;
        update.live = decision.live();
        update.liveVersion = state.liveVersion;
        update.gateReason = decision.reason();
        update.holdoutAuc = decision.candidateAuc();
        update.liveHoldoutAuc = decision.liveAuc();
        update.holdoutSamples = decision.samples();
        update.holdoutPositives = decision.positives();
        update.parameters = parameters;
        update.samplesTrained = state.samplesTrained;
        update.eventTimeMs = cutAt;
        update.newestSampleTimeMs = state.newestSampleTimeMs;
        update.publishedProcessingTimeMs = System.currentTimeMillis();
        update.progressiveAuc = state.lastAuc;
        update.progressiveLogLoss = state.lastLogLoss;
        return update;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        earlierFormat.snapshot();
        if (owner) {
            if (checkpointStale) {
                state.checkpoint = model.checkpoint();
                checkpointStale = false;
            }
            stateStore.update(List.of(state.forCheckpoint()));
            pendingStore.update(pending);
        } else {
            stateStore.clear();
            pendingStore.clear();
        }
    }

    @Override
    public void close() throws Exception {
        if (model != null) {
            model.close();
        }
        if (liveModel != null) {
            liveModel.close();
        }
    }
}
