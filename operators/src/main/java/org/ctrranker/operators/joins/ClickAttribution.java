package org.ctrranker.operators.joins;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.joins.JoinConfig.DelayedFeedbackMode;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.AvroBytesSerializer;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.EarlierStateFormat;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/**
 * Labels each impression from its clicks, keyed by impression_id, in event time.
 *
 * <p>A click counts when it happens at most W after its impression; the first one decides the
 * label and later ones are duplicates (side output). A click that comes before its impression
 * waits for it up to {@link JoinConfig#clickWaitMs()}, then is an orphan (side output); a click
 * after W, or one that arrives after the label was final, is late (side output). Classification
 * uses event times only, so the same input gives the same labels in any arrival order within the
 * watermark bound.
 *
 * <p>Wait-window mode emits exactly one sample per impression when W has passed. Fake-negative
 * mode emits a negative at once and a positive copy when the first click comes (Ktena et al. 2019).
 * Every key's state is cleared by a timer W + {@link JoinConfig#lateClickGraceMs()} after its
 * impression (or after its orphan clicks expire).
 */
public final class ClickAttribution extends KeyedCoProcessFunction<String, TrainingSample, AdClick, TrainingSample>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private final JoinConfig config;

    /**
     * The impression while its attribution window is open, as its Avro bytes: it carries the user's feedback snapshot
     * (hundreds of objects), and as objects the samples of a window's worth of impressions were most of what the
     * young collections copied and the old generation dropped.
     */
    private transient ValueState<byte[]> openImpression;
    /** Where the open impression was kept before it was held as bytes: read until its window closes. */
    private transient ValueState<TrainingSample> openImpressionAsObject;
    private transient EarlierStateFormat earlierFormat;
    private transient AvroBytesSerializer<TrainingSample> samples;
    private transient ValueState<Long> firstClickTime;
    private transient ValueState<Long> labelledImpressionTime;
    private transient ListState<AdClick> clicksBeforeImpression;
    private transient JobCounter labelled;
    private transient JobCounter positives;
    private transient JobCounter lateClicks;
    private transient JobCounter orphanClicks;
    private transient JobCounter duplicateClicks;
    private transient JobCounter rejectedClicks;
    private transient Histogram labelDelay;
    private transient AvroCodec<AdClick> clickCodec;

    public ClickAttribution(JoinConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        earlierFormat = EarlierStateFormat.withTimeToLive(config.stateTtlMs());
        earlierFormat.initialize(context);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        earlierFormat.snapshot();
    }

    @Override
    public void open(OpenContext openContext) {
        BackgroundPriority.lower(getRuntimeContext());
        long ttl = config.stateTtlMs();
        ValueStateDescriptor<byte[]> sampleDescriptor =
                new ValueStateDescriptor<>("open-impression-encoded", AvroBytesSerializer.of(TrainingSample.class));
        ValueStateDescriptor<TrainingSample> sampleObjectDescriptor =
                new ValueStateDescriptor<>("open-impression", AvroTypeInfo.forRecord(TrainingSample.class));
        ValueStateDescriptor<Long> clickDescriptor = new ValueStateDescriptor<>("first-click-time", Types.LONG);
        ValueStateDescriptor<Long> labelledDescriptor = new ValueStateDescriptor<>("labelled-impression-time", Types.LONG);
        ListStateDescriptor<AdClick> earlyDescriptor =
                new ListStateDescriptor<>("clicks-before-impression", AvroTypeInfo.forRecord(AdClick.class));
        openImpression = getRuntimeContext().getState(StateTtl.withTtl(sampleDescriptor, ttl));
        openImpressionAsObject = getRuntimeContext().getState(StateTtl.withTtl(sampleObjectDescriptor, ttl));
        samples = AvroBytesSerializer.of(TrainingSample.class);
        firstClickTime = getRuntimeContext().getState(StateTtl.withTtl(clickDescriptor, ttl));
        labelledImpressionTime = getRuntimeContext().getState(StateTtl.withTtl(labelledDescriptor, ttl));
        clicksBeforeImpression = getRuntimeContext().getListState(StateTtl.withTtl(earlyDescriptor, ttl));
        labelled = JobCounter.register(getRuntimeContext(), "labelled");
        positives = JobCounter.register(getRuntimeContext(), "positives");
        lateClicks = JobCounter.register(getRuntimeContext(), "lateClicks");
        orphanClicks = JobCounter.register(getRuntimeContext(), "orphanClicks");
        duplicateClicks = JobCounter.register(getRuntimeContext(), "duplicateClicks");
        rejectedClicks = JobCounter.register(getRuntimeContext(), "clicksRejected");
        labelDelay = getRuntimeContext().getMetricGroup().histogram("labelDelayMs", new DescriptiveStatisticsHistogram(10_000));
        clickCodec = AvroCodec.forTopic(EventTopic.AD_CLICKS, AdClick.class);
    }

    @Override
    public void processElement1(TrainingSample impression, Context ctx, Collector<TrainingSample> out) throws Exception {
        if (openImpression.value() != null || labelledImpressionTime.value() != null
                || (earlierFormat.mayHoldEntries() && openImpressionAsObject.value() != null)) {
            ctx.output(JoinOutputs.DEAD_LETTERS, JoinOutputs.deadLetter(EventTopic.AD_IMPRESSIONS, "attribution",
                    "duplicate impression " + impression.getImpressionId(), impression.getImpressionId(), null,
                    impression.getImpressionTimeMs(), ctx.timerService().currentProcessingTime()));
            return;
        }
        long impressionTime = impression.getImpressionTimeMs();
        openImpression.update(samples.encode(impression));
        ctx.timerService().registerEventTimeTimer(impressionTime + config.attributionWindowMs());
        ctx.timerService().registerEventTimeTimer(cleanupTime(impressionTime));
        if (config.mode() == DelayedFeedbackMode.FAKE_NEGATIVE) {
            emit(impression, SampleType.FAKE_NEGATIVE, 0, null, impressionTime, out);
        }
        List<AdClick> early = new ArrayList<>();
        clicksBeforeImpression.get().forEach(early::add);
        clicksBeforeImpression.clear();
        early.sort(Comparator.comparingLong(AdClick::getClickTimeMs));
        for (AdClick click : early) {
            attribute(click, impression, ctx, out);
        }
    }

    @Override
    public void processElement2(AdClick click, Context ctx, Collector<TrainingSample> out) throws Exception {
        TrainingSample impression = openImpression();
        if (impression != null) {
            attribute(click, impression, ctx, out);
            return;
        }
        Long labelledAt = labelledImpressionTime.value();
        if (labelledAt != null) {
            classifyAfterLabel(click, labelledAt, ctx);
            return;
        }
        clicksBeforeImpression.add(click);
        ctx.timerService().registerEventTimeTimer(click.getClickTimeMs() + config.clickWaitMs());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TrainingSample> out) throws Exception {
        TrainingSample impression = openImpression();
        if (impression != null && timestamp >= impression.getImpressionTimeMs() + config.attributionWindowMs()) {
            if (config.mode() == DelayedFeedbackMode.WAIT_WINDOW) {
                Long clickTime = firstClickTime.value();
                emit(impression, SampleType.WINDOW_CLOSED, clickTime == null ? 0 : 1, clickTime,
                        impression.getImpressionTimeMs() + config.attributionWindowMs(), out);
            }
            labelledImpressionTime.update(impression.getImpressionTimeMs());
            openImpression.clear();
            if (earlierFormat.mayHoldEntries()) {
                openImpressionAsObject.clear();
            }
        }
        if (impression == null && labelledImpressionTime.value() == null) {
            List<AdClick> stillWaiting = new ArrayList<>();
            for (AdClick click : clicksBeforeImpression.get()) {
                if (click.getClickTimeMs() + config.clickWaitMs() <= timestamp) {
                    orphanClicks.inc();
                    ctx.output(JoinOutputs.ORPHAN_CLICKS, click);
                } else {
                    stillWaiting.add(click);
                }
            }
            clicksBeforeImpression.update(stillWaiting);
        }
        Long labelledAt = labelledImpressionTime.value();
        if (labelledAt != null && timestamp >= cleanupTime(labelledAt)) {
            labelledImpressionTime.clear();
            firstClickTime.clear();
        }
    }

    /** The open impression, decoded afresh (the caller may label it in place); null if none. */
    private TrainingSample openImpression() throws Exception {
        byte[] encoded = openImpression.value();
        if (encoded != null) {
            return samples.decode(encoded);
        }
        return earlierFormat.mayHoldEntries() ? openImpressionAsObject.value() : null;
    }

    private void attribute(AdClick click, TrainingSample impression, Context ctx, Collector<TrainingSample> out)
            throws Exception {
        long delay = click.getClickTimeMs() - impression.getImpressionTimeMs();
        if (delay < 0) {
            rejectedClicks.inc();
            ctx.output(JoinOutputs.DEAD_LETTERS, JoinOutputs.deadLetter(EventTopic.AD_CLICKS, "attribution",
                    "click at " + click.getClickTimeMs() + " precedes its impression at " + impression.getImpressionTimeMs(),
                    click.getImpressionId(), clickCodec.encode(click), click.getClickTimeMs(),
                    ctx.timerService().currentProcessingTime()));
        } else if (delay > config.attributionWindowMs()) {
            lateClicks.inc();
            ctx.output(JoinOutputs.LATE_CLICKS, click);
        } else if (firstClickTime.value() != null) {
            duplicateClicks.inc();
            ctx.output(JoinOutputs.DUPLICATE_CLICKS, click);
        } else {
            firstClickTime.update(click.getClickTimeMs());
            if (config.mode() == DelayedFeedbackMode.FAKE_NEGATIVE) {
                emit(impression, SampleType.POSITIVE_COPY, 1, click.getClickTimeMs(), click.getClickTimeMs(), out);
            }
        }
    }

    /** A click for an impression whose label is already final: a duplicate if it was clicked, else late. */
    private void classifyAfterLabel(AdClick click, long impressionTime, Context ctx) throws Exception {
        boolean withinWindow = click.getClickTimeMs() - impressionTime <= config.attributionWindowMs();
        if (withinWindow && firstClickTime.value() != null) {
            duplicateClicks.inc();
            ctx.output(JoinOutputs.DUPLICATE_CLICKS, click);
        } else {
            lateClicks.inc();
            ctx.output(JoinOutputs.LATE_CLICKS, click);
        }
    }

    /**
     * Labels the impression. The open impression's own record is labelled in place when it leaves state
     * with this sample (a deep copy was a sixth of the operator's CPU); fake-negative mode keeps the
     * impression open after its first sample, so it labels a copy.
     */
    private void emit(TrainingSample impression, SampleType type, int label, Long clickTime, long labelTime,
            Collector<TrainingSample> out) {
        TrainingSample sample = type == SampleType.WINDOW_CLOSED ? impression : TrainingSample.newBuilder(impression).build();
        sample.setSampleId(impression.getImpressionId() + "/" + type.name().toLowerCase(java.util.Locale.ROOT));
        sample.setSampleType(type);
        sample.setLabel(label);
        sample.setClickTimeMs(clickTime);
        sample.setClickDelayMs(clickTime == null ? null : clickTime - impression.getImpressionTimeMs());
        sample.setLabelTimeMs(labelTime);
        labelled.inc();
        if (label == 1) {
            positives.inc();
            labelDelay.update(clickTime - impression.getImpressionTimeMs());
        }
        out.collect(sample);
    }

    private long cleanupTime(long impressionTime) {
        return impressionTime + config.attributionWindowMs() + config.lateClickGraceMs();
    }
}
