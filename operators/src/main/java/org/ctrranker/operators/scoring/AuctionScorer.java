package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import org.apache.flink.api.common.accumulators.IntMaximum;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractInput;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorV2;
import org.apache.flink.streaming.api.operators.Input;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.MultipleInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.function.ThrowingConsumer;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.Features;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;
import org.ctrranker.operators.features.EncodedSnapshot;
import org.ctrranker.operators.features.ItemStatisticsFunction;
import org.ctrranker.operators.features.ItemTick;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.metrics.LowestWatermark;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.runtime.OperatorV2Factory;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.SharedValueSerializer;

/**
 * Scores every candidate of every auction, keyed by user_id, so that a rerun or a failover serves the
 * same scores: what an auction is scored with is decided in event time, never by which record reached
 * the scorer first.
 *
 * <p>Inputs fixed at {@code t - lag} ({@code ctr.scoring.state-lag-ms}) for an auction at request time
 * {@code t}: the user's newest feedback snapshot among the records with timestamp at or before it (the
 * feedback input; then {@link ModelInputs#history} as of {@code t}), and the highest model version whose record
 * timestamp is at or before it (the versions input: a copy of every live version for each subtask; version 0 is the
 * seeded initial model). Once the watermark has passed {@code t - lag} nothing can change that choice; the lag exceeds the watermark's
 * out-of-orderness, so in live traffic it has passed when the auction arrives, and the auction is scored
 * at once. Otherwise it waits in keyed state for an event-time timer at {@code t - lag}: nothing is lost
 * at a checkpoint or a failover, and a replay decides the same way. A record that comes behind the
 * watermark can no longer be placed so (best effort: used from then on, counted in
 * {@code scorerLateRecords}). When the watermark falls further behind (an overloaded trainer holds the model
 * versions' watermark back), a waiting auction is scored after {@code ctr.scoring.max-wait-ms} of processing
 * time with the snapshot and version as of {@code t - lag} among those that have arrived (counted in
 * {@code scorerTimedOutAuctions}): a ranking seconds late is of no use to an ad server, so freshness wins
 * over replay-exactness there; 0 waits however long. A backfill auction ({@code AdAuction.backfill}, replayed
 * history) is not scored (counted in {@code scorerBackfillAuctions}); its samples still update the user's
 * snapshots.
 *
 * <p>State kept: per user, the snapshots newer than the watermark minus the lag plus the newest one
 * before (pruned on a timer), most as deltas from the one before ({@link UserSnapshots}), all dropped
 * once the newest is older than {@code ctr.features.feedback.user-idle-timeout-ms} (counted in
 * {@code scorerIdleUsers}); the versions likewise ({@link ModelVersions}, union operator state: each subtask
 * writes the versions it has, a restore takes them all).
 *
 * <p>Micro-batches (latency and CPU): auctions due for scoring wait in a buffer until it holds
 * {@code ctr.scoring.batch-max-auctions} or the oldest has waited {@code ctr.scoring.batch-max-delay-ms}
 * (processing time); then the buffer is scored per model version (a change swaps in the {@link StandbyModel},
 * which loaded the version when it arrived, or restores it in place when the standby holds another)
 * through {@code CtrModel.scoreBatchInvariant}, whose results do not depend on the batch's other auctions
 * ({@code ctr.scoring.replay-exact=false} trades that for plain calls, cheaper for users with short histories). The
 * buffer is scored before every checkpoint barrier ({@link #prepareSnapshotPreBarrier}) and at end of
 * input, so a checkpoint never holds a buffered auction.
 *
 * <p>Output: one {@link CtrScore} per candidate (rank 1 = highest eCPM), and on {@link #REDIS} the
 * auction's ranking and the user's latest scores. Chaos testing: {@link InjectedScorerFailure}.
 */
public final class AuctionScorer extends AbstractStreamOperatorV2<CtrScore>
        implements MultipleInputStreamOperator<CtrScore>, Triggerable<String, VoidNamespace> {

    /** The inputs, in order; the first two keyed by user_id, the third by {@link RoutedVersion#route}. */
    public static final int AUCTIONS_INPUT = 1;
    public static final int FEEDBACK_INPUT = 2;
    public static final int VERSIONS_INPUT = 3;

    /** Accumulators of the slowest subtask's watermark on each input. */
    public static final String AUCTIONS_WATERMARK = "scorerAuctionsWatermarkMs";
    public static final String FEEDBACK_WATERMARK = "scorerFeedbackWatermarkMs";
    public static final String VERSIONS_WATERMARK = "scorerVersionsWatermarkMs";

    public static final OutputTag<VersionedWrite> REDIS =
            new OutputTag<>("scores-redis", TypeInformation.of(VersionedWrite.class));

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private final OnlineConfig config;
    @SuppressWarnings("rawtypes")
    private final List<Input> inputs;

    private InjectedScorerFailure injectedFailure;
    private boolean finished;
    private CtrModel model;
    private StandbyModel standby;
    private byte[] initialParameters;
    /** Version whose parameters the model holds now (0: the initial ones). */
    private long loadedVersion;
    private ModelVersions versions;
    private ListState<ModelVersions.Due> versionsState;
    private ItemTable items;
    private ListState<ItemTick> itemsState;
    /** The last idle-check grid time the watermark passed: ads are forgotten once per step. */
    private long itemsExpiredAt;
    private UserSnapshots snapshots;
    private ListState<AdAuction> waiting;
    private InternalTimerService<VoidNamespace> timers;
    private List<Scoring> pending;
    private boolean flushScheduled;
    private JobCounter scoredAuctions;
    private JobCounter waitedAuctions;
    private JobCounter timedOutAuctions;
    private JobCounter lateRecords;
    private JobCounter modelSwaps;
    /** Swaps to a version the standby model had loaded off the scoring thread. */
    private LongCounter preloadedSwaps;
    private JobCounter backfillAuctions;
    private JobCounter idleUsers;
    private LongCounter scoredCandidates;
    private LowestWatermark watermarkAccumulator;
    /** Each input's watermark: which one holds the scorer's event time back. */
    private LowestWatermark[] inputWatermarkAccumulators;
    /** Micro-batches scored: scoredCandidates / scoringBatches is the job's real batch size (bench e2e). */
    private LongCounter scoringBatches;
    private LongCounter scoringCpuMicros;

    /** An auction due for scoring with the inputs decided for it. */
    private record Scoring(AdAuction auction, ScoringRequest request, ModelUpdate version) {
        long versionNumber() {
            return version == null ? 0 : version.version;
        }
    }

    private AuctionScorer(StreamOperatorParameters<CtrScore> parameters, OnlineConfig config) {
        super(parameters, 3);
        this.config = config;
        this.inputs = List.of(
                new ScorerInput<AdAuction>(AUCTIONS_INPUT, this::processAuction),
                new ScorerInput<EncodedSnapshot>(FEEDBACK_INPUT, this::processFeedback),
                new ScorerInput<RoutedVersion>(VERSIONS_INPUT, this::processVersion));
    }

    /** The scorer for a job: an input per stream, none read through Flink's {@code UnionInputGate} (MergedStreams). */
    public static OperatorV2Factory<CtrScore> factory(OnlineConfig config) {
        return new OperatorV2Factory<>(AuctionScorer.class, parameters -> new AuctionScorer(parameters, config));
    }

    @Override
    @SuppressWarnings("rawtypes")
    public List<Input> getInputs() {
        return inputs;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        versionsState = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("model-versions",
                        new SharedValueSerializer<>(getRuntimeContext().createSerializer(TypeInformation.of(ModelVersions.Due.class)))));
        versions = ModelVersions.of(versionsState.get());
        itemsState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("item-ticks", TypeInformation.of(ItemTick.class)));
        items = ItemTable.of(itemsState.get());
        itemsExpiredAt = Long.MIN_VALUE;
        injectedFailure = new InjectedScorerFailure(config.scorerFailAfterAuctions());
        injectedFailure.initialize(context);
        finished = false;
    }

    @Override
    public void open() throws Exception {
        super.open();
        DjlRuntime.prepare();
        KeyedStateStore keyed = getKeyedStateStore().orElseThrow();
        snapshots = new UserSnapshots(keyed.getMapState(new MapStateDescriptor<>("feedback-snapshots",
                BasicTypeInfo.LONG_TYPE_INFO, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                keyed.getState(new ValueStateDescriptor<>("feedback-snapshot-times",
                        PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO)), this::getCurrentKey);
        waiting = keyed.getListState(
                new ListStateDescriptor<>("waiting-auctions", AvroTypeInfo.forRecord(AdAuction.class)));
        timers = getInternalTimerService("scorer-timers", VoidNamespaceSerializer.INSTANCE, this);
        versions.removeIf(update -> !RestoredModelShape.fits(update.parameters, "model version " + update.version, config));
        model = CtrModel.create(config.modelConfig());
        initialParameters = model.snapshot();
        loadedVersion = 0;
        model.warmUp();
        standby = new StandbyModel(CtrModel.create(config.modelConfig()),
                "scorer version loader " + getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks(),
                BackgroundPriority.configured(getRuntimeContext().getGlobalJobParameters()));
        versions.newest().ifPresent(standby::load);
        pending = new ArrayList<>();
        scoredAuctions = JobCounter.register(getRuntimeContext(), "scoredAuctions");
        waitedAuctions = JobCounter.register(getRuntimeContext(), "scorerWaitedAuctions");
        timedOutAuctions = JobCounter.register(getRuntimeContext(), "scorerTimedOutAuctions");
        lateRecords = JobCounter.register(getRuntimeContext(), "scorerLateRecords");
        idleUsers = JobCounter.register(getRuntimeContext(), "scorerIdleUsers");
        modelSwaps = JobCounter.register(getRuntimeContext(), "scorerModelSwaps");
        preloadedSwaps = new LongCounter();
        getRuntimeContext().addAccumulator("scorerPreloadedSwaps", preloadedSwaps);
        backfillAuctions = JobCounter.register(getRuntimeContext(), "scorerBackfillAuctions");
        // Model CPU time of this subtask's thread (PyTorch runs on it with one intra-op thread): in-job
        // scoring throughput per CPU-second, comparable with bench model on a loaded machine.
        scoredCandidates = new LongCounter();
        scoringCpuMicros = new LongCounter();
        getRuntimeContext().addAccumulator("scoredCandidates", scoredCandidates);
        scoringBatches = new LongCounter();
        getRuntimeContext().addAccumulator("scoringBatches", scoringBatches);
        getRuntimeContext().addAccumulator("scoringCpuMicros", scoringCpuMicros);
        // The attempt this subtask runs in: above 0 in a job's result means it restarted.
        IntMaximum attempt = new IntMaximum(getRuntimeContext().getTaskInfo().getAttemptNumber());
        getRuntimeContext().addAccumulator("scorerAttempt", attempt);
        // Versions this subtask restored from a checkpoint: above 0 shows a restart resumed mid-stream.
        LongCounter restoredVersions = new LongCounter();
        restoredVersions.add((long) versions.all().size());
        getRuntimeContext().addAccumulator("scorerRestoredVersions", restoredVersions);
        getRuntimeContext().getMetricGroup().gauge("loadedModelVersion", () -> loadedVersion);
        // How far event time trails the wall clock here: an auction is scored on arrival only when this is
        // below ctr.scoring.state-lag-ms, so it is what that setting is tuned against.
        getRuntimeContext().getMetricGroup().gauge("watermarkDelayMs", () -> {
            long watermark = timers.currentWatermark();
            return watermark == Long.MIN_VALUE ? -1L : getProcessingTimeService().getCurrentProcessingTime() - watermark;
        });
        // The same, polled by bench e2e: a job keeps up only while auctions are scored on arrival.
        watermarkAccumulator = new LowestWatermark();
        getRuntimeContext().addAccumulator("scorerWatermarkMs", watermarkAccumulator);
        String[] names = {AUCTIONS_WATERMARK, FEEDBACK_WATERMARK, VERSIONS_WATERMARK};
        inputWatermarkAccumulators = new LowestWatermark[names.length];
        for (int i = 0; i < names.length; i++) {
            inputWatermarkAccumulators[i] = new LowestWatermark();
            getRuntimeContext().addAccumulator(names[i], inputWatermarkAccumulators[i]);
        }
    }

    private void processFeedback(StreamRecord<EncodedSnapshot> element) throws Exception {
        EncodedSnapshot snapshot = element.getValue();
        long at = element.hasTimestamp() ? element.getTimestamp() : snapshot.asOfMs();
        countIfLate(at, timers.currentWatermark());
        keep(at, snapshot);
    }

    private void processAuction(StreamRecord<AdAuction> element) throws Exception {
        long watermark = timers.currentWatermark();
        AdAuction auction = element.getValue();
        if (auction.getBackfill()) {
            // Replayed history (feeds user features only): never scored or ranked. Its samples still arrive on
            // the feedback input and update the user's snapshots.
            backfillAuctions.inc();
            return;
        }
        injectedFailure.auctionTaken();
        long due = inputsAsOf(auction);
        countIfLate(auction.getRequestTimeMs(), watermark);
        if (due <= watermark) {
            enqueue(auction, due);
        } else {
            waiting.add(auction);
            timers.registerEventTimeTimer(VoidNamespace.INSTANCE, due);
            if (config.maxWaitMs() > 0) {
                timers.registerProcessingTimeTimer(VoidNamespace.INSTANCE,
                        timers.currentProcessingTime() + config.maxWaitMs());
            }
        }
    }

    private long inputsAsOf(AdAuction auction) {
        return auction.getRequestTimeMs() - config.stateLagMs();
    }

    private void countIfLate(long timestamp, long watermark) {
        if (timestamp <= watermark) {
            lateRecords.inc();
        }
    }

    /** Keeps a snapshot by its record time, with its prune and idle timers. */
    private void keep(long at, EncodedSnapshot snapshot) throws Exception {
        long[] times = snapshots.times();
        if (times.length == 0 || idleCheckAt(at) > idleCheckAt(times[times.length - 1])) {
            timers.registerEventTimeTimer(VoidNamespace.INSTANCE, idleCheckAt(at));
        }
        snapshots.keep(at, snapshot.bytes);
        // one prune timer per user and lag period, after this snapshot is due
        long lag = config.stateLagMs();
        timers.registerEventTimeTimer(VoidNamespace.INSTANCE, Math.floorDiv(at + lag, lag) * lag + lag);
    }

    /** The idle check after a snapshot at {@code at}: the user's timeout later, on the feedback stage's grid. */
    private long idleCheckAt(long at) {
        long grid = UserFeedbackFunction.IDLE_TIMER_GRID_MS;
        return Math.floorDiv(at + config.userIdleTimeoutMs() + grid - 1, grid) * grid;
    }

    /**
     * Drops the user's snapshots when the newest is older than the idle timeout: the feedback stage has dropped
     * the user's history by then too, and a user never seen again would otherwise hold state for good.
     */
    private void expireIfIdle(long time) throws Exception {
        long[] times = snapshots.times();
        if (times.length == 0 || times[times.length - 1] > time - config.userIdleTimeoutMs()
                || waiting.get().iterator().hasNext()) {
            return;
        }
        snapshots.clear();
        idleUsers.inc();
    }

    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        long watermark = timers.currentWatermark();
        List<AdAuction> stillWaiting = new ArrayList<>();
        boolean any = false;
        for (AdAuction auction : waiting.get()) {
            any = true;
            long due = inputsAsOf(auction);
            if (due <= watermark) {
                waitedAuctions.inc();
                enqueue(auction, due);
            } else {
                stillWaiting.add(auction);
            }
        }
        if (any) {
            waiting.update(stillWaiting);
        }
        snapshots.pruneBefore(watermark - config.stateLagMs());
        if (Math.floorMod(timer.getTimestamp(), UserFeedbackFunction.IDLE_TIMER_GRID_MS) == 0) {
            expireIfIdle(timer.getTimestamp());
        }
    }

    /**
     * The max-wait bound of the user's oldest waiting auction has passed: all the user's waiting auctions are
     * scored now (the younger ones early, rather than each on a timer of its own).
     */
    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        boolean any = false;
        for (AdAuction auction : waiting.get()) {
            any = true;
            timedOutAuctions.inc();
            enqueue(auction, inputsAsOf(auction));
        }
        if (any) {
            waiting.clear();
        }
    }

    /** The newest snapshot with record time at or before {@code asOfMs}, or null. */
    private UserFeedbackSnapshot snapshotAt(long asOfMs) throws Exception {
        byte[] bytes = snapshots.at(asOfMs);
        return bytes == null ? null : UserFeedbackFunction.decode(bytes);
    }

    /** Decides the auction's inputs (its user's key is current) and buffers it for the next micro-batch. */
    private void enqueue(AdAuction auction, long asOfMs) throws Exception {
        UserFeedbackSnapshot snapshot = snapshotAt(asOfMs);
        UserHistory history = snapshot == null ? UserHistory.EMPTY
                : ModelInputs.history(snapshot, auction.getRequestTimeMs(), config.attributionWindowMs());
        ModelInputs.UserFatigue fatigue =
                ModelInputs.UserFatigue.of(snapshot, auction.getRequestTimeMs(), config.attributionWindowMs());
        List<Features> candidates = new ArrayList<>(auction.getCandidates().size());
        for (Candidate candidate : auction.getCandidates()) {
            candidates.add(ModelInputs.candidate(auction, candidate, fatigue, items.at(candidate.getAdId(), asOfMs)));
        }
        pending.add(new Scoring(auction, new ScoringRequest(history, candidates), versions.at(asOfMs)));
        if (pending.size() >= config.batchMaxAuctions()) {
            flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            long flushAt = getProcessingTimeService().getCurrentProcessingTime() + config.batchMaxDelayMs();
            getProcessingTimeService().registerTimer(flushAt, time -> flush());
        }
    }

    private void processVersion(StreamRecord<RoutedVersion> element) {
        ItemTick tick = element.getValue().itemTick;
        if (tick != null) {
            countIfLate(element.hasTimestamp() ? element.getTimestamp() : tick.asOfMs, timers.currentWatermark());
            items.add(tick);
            return;
        }
        ModelUpdate update = element.getValue().update;
        if (!update.modelName.equals(config.modelName()) || !update.live) {
            return; // OnlineStages.live filters rejected versions already; a scorer must never load one
        }
        long at = element.hasTimestamp() ? element.getTimestamp() : update.eventTimeMs;
        countIfLate(at, timers.currentWatermark());
        versions.add(at, update);
        if (update.version > Math.max(loadedVersion, standby.version())) {
            standby.load(update);
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        super.processWatermark(mark); // fires the timers first: waiting auctions take their versions
        long watermark = timers.currentWatermark();
        watermarkAccumulator.add(watermark);
        if (watermark > Long.MIN_VALUE + config.stateLagMs()) {
            versions.pruneBefore(watermark - config.stateLagMs());
            items.pruneBefore(watermark - config.stateLagMs());
            long grid = Math.floorDiv(watermark, ItemStatisticsFunction.IDLE_GRID_MS) * ItemStatisticsFunction.IDLE_GRID_MS;
            if (grid > itemsExpiredAt) {
                items.expireBefore(grid - config.itemIdleTimeoutMs());
                itemsExpiredAt = grid;
            }
        }
    }

    private void flush() {
        flushScheduled = false;
        if (pending == null || pending.isEmpty()) { // null: open() never completed
            return;
        }
        float[][] pctrs = new float[pending.size()][];
        scoringBatches.add(1L);
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        for (long version : new TreeSet<>(pending.stream().map(Scoring::versionNumber).toList())) {
            List<Integer> group = new ArrayList<>();
            List<ScoringRequest> requests = new ArrayList<>();
            for (int i = 0; i < pending.size(); i++) {
                if (pending.get(i).versionNumber() == version) {
                    group.add(i);
                    requests.add(pending.get(i).request());
                }
            }
            load(version, pending.get(group.get(0)).version());
            float[][] scored = config.replayExactScores() ? model.scoreBatchInvariant(requests) : model.score(requests);
            for (int g = 0; g < group.size(); g++) {
                pctrs[group.get(g)] = scored[g];
            }
        }
        scoringCpuMicros.add((THREADS.getCurrentThreadCpuTime() - cpuBefore) / 1_000);
        long now = getProcessingTimeService().getCurrentProcessingTime();
        List<Scoring> batch = new ArrayList<>(pending);
        pending.clear();
        for (int i = 0; i < batch.size(); i++) {
            emit(batch.get(i).auction(), pctrs[i], batch.get(i).versionNumber(), now);
            scoredCandidates.add((long) pctrs[i].length);
        }
    }

    private void load(long version, ModelUpdate update) {
        if (version == loadedVersion) {
            return;
        }
        CtrModel preloaded = standby.swapIfHolding(version, model, loadedVersion);
        if (preloaded != null) {
            model = preloaded;
            preloadedSwaps.add(1L);
        } else {
            model.restore(update == null ? initialParameters : update.parameters);
        }
        loadedVersion = version;
        modelSwaps.inc();
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        injectedFailure.checkpointCompleted(checkpointId, getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks());
    }

    private void emit(AdAuction auction, float[] pctr, long version, long now) {
        List<CtrScore> scores = new ArrayList<>(pctr.length);
        for (int c = 0; c < pctr.length; c++) {
            Candidate candidate = auction.getCandidates().get(c);
            scores.add(CtrScore.newBuilder()
                    .setAuctionId(auction.getAuctionId())
                    .setUserId(auction.getUserId())
                    .setAdId(candidate.getAdId())
                    .setPctr(pctr[c])
                    .setBidMicros(candidate.getBidMicros())
                    .setEcpm(ecpm(auction.getPricing(), pctr[c], candidate.getBidMicros()))
                    .setRank(0)
                    .setModelName(config.modelName())
                    .setModelVersion(version)
                    .setEventTimeMs(auction.getRequestTimeMs())
                    .setScoredAtMs(now)
                    .build());
        }
        scores.sort(Comparator.comparingDouble(CtrScore::getEcpm).reversed().thenComparing(CtrScore::getAdId));
        long t = auction.getRequestTimeMs();
        for (int r = 0; r < scores.size(); r++) {
            scores.get(r).setRank(r + 1);
            output.collect(new StreamRecord<>(scores.get(r), t));
        }
        output.collect(REDIS, new StreamRecord<>(ServingWrites.ranking(config, scores), t));
        output.collect(REDIS, new StreamRecord<>(ServingWrites.userScores(config, scores), t));
        scoredAuctions.inc();
    }

    /** Expected revenue per impression in micros: pCTR x bid for CPC bids; the bid per impression for CPM. */
    static double ecpm(Pricing pricing, double pctr, long bidMicros) {
        return pricing == Pricing.CPM ? bidMicros / 1000.0 : pctr * bidMicros;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // Every subtask writes its own list: with unaligned barriers a version may have reached one subtask
        // and still be in flight (in the checkpoint's channel state) to another. A restore takes the union.
        // Shared, not copied, by the checkpoint (SharedValueSerializer): a Due and its update never change.
        List<ModelVersions.Due> held = versions.all();
        versionsState.update(held);
        itemsState.update(items.all());
        injectedFailure.snapshot(context.getCheckpointId(), !held.isEmpty(), finished);
    }

    @Override
    public void finish() throws Exception {
        flush();
        finished = true;
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (standby != null) {
                standby.close();
            }
        } finally {
            if (model != null) {
                model.close();
            }
            super.close();
        }
    }

    /** An input of the scorer: its records to one handler, its watermarks counted before they combine. */
    private final class ScorerInput<T> extends AbstractInput<T, CtrScore> {

        private final ThrowingConsumer<StreamRecord<T>, Exception> handler;

        ScorerInput(int inputId, ThrowingConsumer<StreamRecord<T>, Exception> handler) {
            super(AuctionScorer.this, inputId);
            this.handler = handler;
        }

        @Override
        public void processElement(StreamRecord<T> element) throws Exception {
            handler.accept(element);
        }

        @Override
        public void processWatermark(Watermark mark) throws Exception {
            inputWatermarkAccumulators[inputId - 1].add(mark.getTimestamp());
            super.processWatermark(mark);
        }
    }
}
