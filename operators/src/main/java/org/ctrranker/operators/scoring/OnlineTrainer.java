package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.Sample;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.serde.AvroTypeInfo;

/**
 * Incremental training, keyed by model name, on the labelled samples: mini-batches of
 * {@code ctr.training.batch-size}; each batch is scored before the model trains on it (progressive
 * validation: AUC and log loss over the last {@code ctr.training.metrics-window} samples), and every
 * {@code ctr.training.publish-every-samples} samples a new version is emitted (to the scorers and Redis).
 * At the end of a bounded input the rest is trained on and published.
 *
 * <p>State (checkpointed with the job, so a restore continues training where it was and version numbers
 * keep rising): the model's parameters, version, counters and metric window, and the samples of the
 * unfinished batch. The optimiser's moments are not part of {@code CtrModel.snapshot()}: after a restore
 * Adam starts its moments afresh. No quality gate yet: every version goes live.
 */
public final class OnlineTrainer extends KeyedProcessFunction<String, TrainingSample, ModelUpdate>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private final OnlineConfig config;

    private transient CtrModel model;
    private transient TrainerState state;
    private transient ListState<TrainerState> stateStore;
    private transient ListState<TrainingSample> pending;
    /** Samples in {@link #pending}; -1 until counted after a restore. */
    private transient int pendingCount;
    private transient boolean owner;
    private transient JobCounter versionsPublished;
    private transient JobCounter samplesTrained;

    public OnlineTrainer(OnlineConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // Union state: whichever subtask owns the model's key after a restore (parallelism may change)
        // finds the model there; only that subtask writes it back.
        stateStore = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("trainer", TypeInformation.of(TrainerState.class)));
        var task = getRuntimeContext().getTaskInfo();
        owner = KeyGroupRangeAssignment.assignKeyToParallelOperator(config.modelName(),
                task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks()) == task.getIndexOfThisSubtask();
        state = null;
        if (owner) {
            for (TrainerState restored : stateStore.get()) {
                if (state == null || restored.version > state.version
                        || (restored.version == state.version && restored.samplesTrained > state.samplesTrained)) {
                    state = restored;
                }
            }
        }
    }

    @Override
    public void open(OpenContext openContext) {
        DjlRuntime.prepare();
        // The unfinished batch is keyed state: it travels with the model's key.
        pending = getRuntimeContext().getListState(
                new ListStateDescriptor<>("trainer-pending", AvroTypeInfo.forRecord(TrainingSample.class)));
        pendingCount = -1;
        model = CtrModel.create(config.modelConfig());
        if (state == null) {
            state = TrainerState.fresh(config.metricsWindow());
        } else if (state.parameters != null) {
            model.restore(state.parameters);
        }
        versionsPublished = JobCounter.register(getRuntimeContext(), "modelVersions");
        samplesTrained = JobCounter.register(getRuntimeContext(), "samplesTrained");
        var metrics = getRuntimeContext().getMetricGroup();
        metrics.gauge("modelVersion", () -> state.version);
        metrics.gauge("progressiveAuc", () -> state.lastAuc);
        metrics.gauge("progressiveLogLoss", () -> state.lastLogLoss);
    }

    @Override
    public void processElement(TrainingSample sample, Context ctx, Collector<ModelUpdate> out) throws Exception {
        if (pendingCount < 0) {
            pendingCount = 0;
            pending.get().forEach(s -> pendingCount++);
        }
        pending.add(sample);
        pendingCount++;
        // Fires once, when a bounded input ends: the last partial batch is trained and published.
        ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
        if (pendingCount >= config.trainingBatchSize()) {
            trainPending(out);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ModelUpdate> out) throws Exception {
        trainPending(out);
        if (state.samplesSincePublish > 0) {
            publish(out);
        }
    }

    private void trainPending(Collector<ModelUpdate> out) throws Exception {
        List<Sample> batch = new ArrayList<>(config.trainingBatchSize());
        for (TrainingSample s : pending.get()) {
            batch.add(ModelInputs.sample(s));
            state.eventTimeMs = Math.max(state.eventTimeMs, s.getLabelTimeMs());
        }
        if (batch.isEmpty()) {
            return;
        }
        float[] predicted = model.predict(batch);
        for (int i = 0; i < predicted.length; i++) {
            state.record(predicted[i], batch.get(i).label());
        }
        model.train(batch);
        state.samplesTrained += batch.size();
        state.samplesSincePublish += batch.size();
        for (int i = 0; i < batch.size(); i++) {
            samplesTrained.inc();
        }
        pending.clear();
        pendingCount = 0;
        if (state.samplesSincePublish >= config.publishEverySamples()) {
            publish(out);
        }
    }

    private void publish(Collector<ModelUpdate> out) {
        state.version++;
        state.samplesSincePublish = 0;
        state.updateMetrics();
        ModelUpdate update = new ModelUpdate();
        update.modelName = config.modelName();
        update.version = state.version;
        update.parameters = model.snapshot();
        update.samplesTrained = state.samplesTrained;
        update.eventTimeMs = state.eventTimeMs;
        update.publishedAtMs = System.currentTimeMillis();
        update.progressiveAuc = state.lastAuc;
        update.progressiveLogLoss = state.lastLogLoss;
        out.collect(update);
        versionsPublished.inc();
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        if (owner) {
            state.parameters = model.snapshot();
            stateStore.update(List.of(state));
        } else {
            stateStore.clear();
        }
    }

    @Override
    public void close() throws Exception {
        if (model != null) {
            model.close();
        }
    }
}
