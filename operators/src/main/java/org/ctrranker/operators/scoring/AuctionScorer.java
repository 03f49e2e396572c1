package org.ctrranker.operators.scoring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.Features;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.redis.VersionedWrite;

/**
 * Scores every candidate of every auction with the live model, keyed by user_id.
 *
 * <p>Input 1 (keyed by user_id): auctions (left) and feedback-enriched impression samples (right), from
 * which the user's newest TEM4CTR snapshot is kept in keyed state; an auction is scored with the history
 * of that snapshot as of its request time ({@link ModelInputs#history}: nothing later). Input 2
 * (broadcast): model versions from the trainer; a newer one is loaded in place, without a restart.
 *
 * <p>Micro-batches: auctions wait in a buffer until it holds {@code ctr.scoring.batch-max-auctions} or
 * the oldest has waited {@code ctr.scoring.batch-max-delay-ms} (processing time); then the whole buffer
 * is one model call. The buffer is also scored before every checkpoint barrier goes downstream
 * ({@link #prepareSnapshotPreBarrier}) and at end of input, so a checkpoint never holds a pending
 * auction: every auction before the barrier has its scores before it, every one after is replayed.
 *
 * <p>Output: one {@link CtrScore} per candidate (rank 1 = highest eCPM), and on {@link #REDIS} the
 * auction's ranking and the user's latest scores. The model lives per subtask (one DJL engine per JVM,
 * one model instance per scoring subtask); the live version is kept in operator state, so a restored
 * scorer starts on the version it had. (Every subtask receives every version, so they all hold the same.)
 */
public final class AuctionScorer extends AbstractStreamOperator<CtrScore>
        implements TwoInputStreamOperator<Either<AdAuction, TrainingSample>, ModelUpdate, CtrScore> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<VersionedWrite> REDIS =
            new OutputTag<>("scores-redis", TypeInformation.of(VersionedWrite.class));

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private final OnlineConfig config;

    private transient CtrModel model;
    private transient ModelUpdate live;
    private transient ListState<ModelUpdate> liveState;
    private transient ValueState<byte[]> feedback;
    private transient ValueState<Long> feedbackAsOf;
    private transient List<AdAuction> pending;
    private transient List<ScoringRequest> requests;
    private transient boolean flushScheduled;
    private transient JobCounter scoredAuctions;
    private transient JobCounter modelSwaps;
    private transient LongCounter scoredCandidates;
    private transient LongCounter scoringCpuMicros;

    public AuctionScorer(OnlineConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        // Union state written by subtask 0 only: every subtask, at any parallelism after a restore,
        // starts on the same live version.
        liveState = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("live-model", TypeInformation.of(ModelUpdate.class)));
        live = null;
        for (ModelUpdate restored : liveState.get()) {
            if (live == null || restored.version > live.version) {
                live = restored;
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        DjlRuntime.prepare();
        feedback = getRuntimeContext().getState(
                new ValueStateDescriptor<>("feedback-snapshot", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        feedbackAsOf = getRuntimeContext().getState(new ValueStateDescriptor<>("feedback-as-of", Long.class));
        model = CtrModel.create(config.modelConfig());
        if (live != null) {
            model.restore(live.parameters);
        }
        model.warmUp();
        pending = new ArrayList<>();
        requests = new ArrayList<>();
        scoredAuctions = JobCounter.register(getRuntimeContext(), "scoredAuctions");
        modelSwaps = JobCounter.register(getRuntimeContext(), "scorerModelSwaps");
        // Model CPU time of this subtask's thread (PyTorch runs on it with one intra-op thread): in-job
        // scoring throughput per CPU-second, comparable with bench model on a loaded machine.
        scoredCandidates = new LongCounter();
        scoringCpuMicros = new LongCounter();
        getRuntimeContext().addAccumulator("scoredCandidates", scoredCandidates);
        getRuntimeContext().addAccumulator("scoringCpuMicros", scoringCpuMicros);
        getRuntimeContext().getMetricGroup().gauge("liveModelVersion", this::liveVersion);
    }

    private long liveVersion() {
        ModelUpdate current = live;
        return current == null ? 0 : current.version;
    }

    @Override
    public void processElement1(StreamRecord<Either<AdAuction, TrainingSample>> element) throws Exception {
        Either<AdAuction, TrainingSample> value = element.getValue();
        if (value.isRight()) {
            keepNewest(value.right().getFeedback());
            return;
        }
        AdAuction auction = value.left();
        UserHistory history = UserHistory.EMPTY;
        byte[] snapshot = feedback.value();
        if (snapshot != null) {
            history = ModelInputs.history(UserFeedbackFunction.decode(snapshot), auction.getRequestTimeMs(),
                    config.attributionWindowMs());
        }
        List<Features> candidates = new ArrayList<>(auction.getCandidates().size());
        for (Candidate candidate : auction.getCandidates()) {
            candidates.add(ModelInputs.candidate(auction, candidate));
        }
        pending.add(auction);
        requests.add(new ScoringRequest(history, candidates));
        if (pending.size() >= config.batchMaxAuctions()) {
            flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            long due = getProcessingTimeService().getCurrentProcessingTime() + config.batchMaxDelayMs();
            getProcessingTimeService().registerTimer(due, time -> flush());
        }
    }

    private void keepNewest(UserFeedbackSnapshot snapshot) throws Exception {
        if (snapshot == null) {
            return;
        }
        Long asOf = feedbackAsOf.value();
        if (asOf == null || snapshot.getAsOfMs() > asOf) {
            feedback.update(UserFeedbackFunction.encode(snapshot));
            feedbackAsOf.update(snapshot.getAsOfMs());
        }
    }

    @Override
    public void processElement2(StreamRecord<ModelUpdate> element) {
        ModelUpdate update = element.getValue();
        if (!update.modelName.equals(config.modelName()) || update.version <= liveVersion()) {
            return;
        }
        flush(); // auctions that arrived before the new version are scored by the old one
        model.restore(update.parameters);
        live = update;
        modelSwaps.inc();
    }

    private void flush() {
        flushScheduled = false;
        if (pending.isEmpty()) {
            return;
        }
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        float[][] pctrs = model.score(requests);
        scoringCpuMicros.add((THREADS.getCurrentThreadCpuTime() - cpuBefore) / 1_000);
        long now = getProcessingTimeService().getCurrentProcessingTime();
        long version = liveVersion();
        for (int i = 0; i < pending.size(); i++) {
            emit(pending.get(i), pctrs[i], version, now);
            scoredCandidates.add((long) pctrs[i].length);
        }
        pending.clear();
        requests.clear();
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
        boolean writer = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0;
        liveState.update(live == null || !writer ? List.of() : List.of(live));
    }

    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (model != null) {
            model.close();
        }
        super.close();
    }
}
