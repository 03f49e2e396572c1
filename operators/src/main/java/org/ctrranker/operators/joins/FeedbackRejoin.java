package org.ctrranker.operators.joins;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.features.SampleFeedback;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.AvroBytesSerializer;

/**
 * Puts each labelled sample's feedback snapshot back on it, keyed by user_id on both inputs: labelled samples from
 * click attribution (input 1, without feedback) and the snapshots the user feedback stage detached from them (input
 * 2, {@link SampleFeedback}).
 *
 * <p>Why: attribution holds every impression for its window W (30 minutes by default), keyed by impression, and a
 * sample's snapshot was nine tenths of its bytes. Here, keyed by user, a snapshot waits as a delta from the user's
 * previous one ({@link ParkedFeedback}): tens of bytes where the history barely moved.
 *
 * <p>A snapshot leaves when its window-closed sample takes it, or at the latest W + the late-click grace after its
 * impression (fake-negative mode's pair, a duplicate impression's). A sample that comes before its snapshot (the two
 * take different paths) waits for it, and leaves with it from a timer at its label time (so with its own timestamp),
 * or without one at that removal time if none came ({@code samplesWithoutFeedback}: the feedback stage sends one for
 * every sample, so it counts a fault). A sample that already carries feedback
 * (labelled from state kept before this stage existed) passes unchanged.
 */
public final class FeedbackRejoin extends KeyedCoProcessFunction<String, TrainingSample, SampleFeedback, TrainingSample> {

    private static final long serialVersionUID = 1L;
    /** Removal timers fall on this grid: a busy user's parked snapshots share one per second. */
    static final long TIMER_GRID_MS = 1_000L;

    private final JoinConfig config;

    private transient Object currentKey;
    private transient ParkedFeedback parked;
    private transient MapState<String, List<byte[]>> samplesWaiting;
    private transient AvroBytesSerializer<TrainingSample> samples;
    private transient JobCounter rejoined;
    private transient JobCounter waited;
    private transient JobCounter withoutFeedback;
    private transient JobCounter duplicateFeedback;

    public FeedbackRejoin(JoinConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) {
        BackgroundPriority.lower(getRuntimeContext());
        long ttl = config.stateTtlMs();
        parked = new ParkedFeedback(getRuntimeContext(), ttl, this::removalTime, () -> currentKey);
        samplesWaiting = getRuntimeContext().getMapState(StateTtl.withTtl(new MapStateDescriptor<>(
                "samples-waiting-for-feedback", Types.STRING,
                Types.LIST(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)), ttl));
        samples = AvroBytesSerializer.of(TrainingSample.class);
        rejoined = JobCounter.register(getRuntimeContext(), "feedbackRejoined");
        waited = JobCounter.register(getRuntimeContext(), "samplesWaitedForFeedback");
        withoutFeedback = JobCounter.register(getRuntimeContext(), "samplesWithoutFeedback");
        duplicateFeedback = JobCounter.register(getRuntimeContext(), "duplicateFeedback");
    }

    @Override
    public void processElement1(TrainingSample sample, Context ctx, Collector<TrainingSample> out) throws Exception {
        currentKey = ctx.getCurrentKey();
        if (sample.getFeedback() != null) {
            out.collect(sample);
            return;
        }
        String impressionId = sample.getImpressionId();
        boolean labelFinal = sample.getSampleType() == SampleType.WINDOW_CLOSED;
        byte[] snapshot = labelFinal ? parked.take(impressionId) : parked.get(impressionId);
        if (snapshot == null) {
            List<byte[]> waiting = samplesWaiting.get(impressionId);
            waiting = waiting == null ? new ArrayList<>() : new ArrayList<>(waiting);
            waiting.add(samples.encode(sample));
            samplesWaiting.put(impressionId, waiting);
            waited.inc();
            ctx.timerService().registerEventTimeTimer(removalTime(sample.getImpressionTimeMs()));
            return;
        }
        emit(sample, snapshot, out);
    }

    @Override
    public void processElement2(SampleFeedback feedback, Context ctx, Collector<TrainingSample> out) throws Exception {
        currentKey = ctx.getCurrentKey();
        if (parked.contains(feedback.impressionId)) {
            duplicateFeedback.inc(); // a duplicate impression's: attribution keeps the first, so does this
            return;
        }
        parked.park(feedback.impressionId, feedback.impressionTimeMs, feedback.bytes);
        ctx.timerService().registerEventTimeTimer(removalTime(feedback.impressionTimeMs));
        List<byte[]> waiting = samplesWaiting.get(feedback.impressionId);
        if (waiting != null) {
            // Sent from the timer at each one's label time, so they leave with their own timestamps.
            for (byte[] encoded : waiting) {
                ctx.timerService().registerEventTimeTimer(samples.decode(encoded).getLabelTimeMs());
            }
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TrainingSample> out) throws Exception {
        currentKey = ctx.getCurrentKey();
        if (!samplesWaiting.isEmpty()) {
            releaseWaiting(timestamp, out);
        }
        parked.removeDue(timestamp);
    }

    /** Samples whose snapshot came and whose label time is due leave with it; those past removal time without. */
    private void releaseWaiting(long timestamp, Collector<TrainingSample> out) throws Exception {
        List<String> ids = new ArrayList<>();
        samplesWaiting.keys().forEach(ids::add);
        for (String impressionId : ids) {
            byte[] snapshot = parked.get(impressionId);
            List<byte[]> stillWaiting = new ArrayList<>();
            boolean labelFinal = false;
            for (byte[] encoded : samplesWaiting.get(impressionId)) {
                TrainingSample sample = samples.decode(encoded);
                if (snapshot != null && sample.getLabelTimeMs() <= timestamp) {
                    emit(sample, snapshot, out);
                    labelFinal |= sample.getSampleType() == SampleType.WINDOW_CLOSED;
                } else if (removalTime(sample.getImpressionTimeMs()) <= timestamp) {
                    withoutFeedback.inc();
                    out.collect(sample);
                } else {
                    stillWaiting.add(encoded);
                }
            }
            if (stillWaiting.isEmpty()) {
                samplesWaiting.remove(impressionId);
            } else {
                samplesWaiting.put(impressionId, stillWaiting);
            }
            if (labelFinal) {
                parked.remove(impressionId);
            }
        }
    }

    private void emit(TrainingSample sample, byte[] snapshot, Collector<TrainingSample> out) throws Exception {
        sample.setFeedback(UserFeedbackFunction.decode(snapshot));
        rejoined.inc();
        out.collect(sample);
    }

    private long removalTime(long impressionTime) {
        long due = impressionTime + config.attributionWindowMs() + config.lateClickGraceMs();
        return TIMER_GRID_MS * Math.floorDiv(due + TIMER_GRID_MS - 1, TIMER_GRID_MS);
    }
}
