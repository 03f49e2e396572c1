package org.ctrranker.operators.features;

import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.metrics.AccumulatingCounter;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.EarlierStateFormat;

/**
 * AIE auction statistics, keyed by scenario ({@link AuctionStatistics#scenarioKey}). Sets on each
 * labelled sample {@code market_price_norm} (AM2 target) and {@code bcm_weight} (BCM) from the
 * statistics of the samples labelled strictly before it, and publishes the statistics to Redis
 * ({@link #REDIS_STATISTICS}, {@code <prefix>:market:{scenario}}).
 *
 * <p>Point in time and replays: samples wait until the watermark passes their label time and are then
 * handled in (label time, sample id) order; all samples of one label time read the statistics first and
 * update them after. In wait-window mode label time = impression time + W, so "labelled before" is
 * "shown before". KLL compaction is seeded from the data ({@link SeededKll}), so a replay gives the same
 * values bit for bit.
 *
 * <p>Rolling: statistics live in event-time windows of {@code windowMs}; a sample sees the previous
 * window (if it is the one right before) merged with the current one: between one and two windows of
 * history. Market price and bid statistics count each impression once (a fake-negative's positive copy
 * adds only its bid to the positives' sketch).
 */
public final class AuctionStatisticsFunction extends KeyedProcessFunction<String, TrainingSample, TrainingSample>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<VersionedWrite> REDIS_STATISTICS =
            new OutputTag<>("auction-statistics-redis", TypeInformation.of(VersionedWrite.class));

    private final AieConfig config;

    private transient ValueState<byte[]> currentWindow;
    private transient ValueState<byte[]> previousWindow;
    private transient ValueState<Long> lastPublishedBucket;
    private transient EventTimeBuffer waitingSamples;
    private transient EarlierStateFormat earlierFormat;
    private transient Counter samplesWithMarketNorm;
    private transient Counter samplesWithoutStatistics;
    private transient Counter positivesReweighted;
    private transient Counter lateSamples;
    private transient Counter publications;
    private transient volatile long lastCount;
    private transient volatile long lastRetainedItems;
    private transient volatile double lastRankError;
    private transient volatile double lastReferenceBid;
    private transient volatile long lastStateBytes;

    public AuctionStatisticsFunction(AieConfig config) {
        this.config = config;
    }

    /** Counted as metrics in this group and, for bounded runs, as accumulators {@code <group>.<name>}. */
    static final String METRIC_GROUP = "auctionStatistics";

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        earlierFormat = EarlierStateFormat.withoutTimeToLive();
        earlierFormat.initialize(context);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        earlierFormat.snapshot();
    }

    @Override
    public void open(OpenContext openContext) {
        BackgroundPriority.lower(getRuntimeContext());
        currentWindow = getRuntimeContext().getState(
                new ValueStateDescriptor<>("aie-current-window", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        previousWindow = getRuntimeContext().getState(
                new ValueStateDescriptor<>("aie-previous-window", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        lastPublishedBucket = getRuntimeContext().getState(new ValueStateDescriptor<>("aie-last-published", Types.LONG));
        waitingSamples = new EventTimeBuffer(getRuntimeContext(), "aie-samples-waiting-for-watermark", null, earlierFormat);

        MetricGroup metrics = getRuntimeContext().getMetricGroup().addGroup(METRIC_GROUP);
        samplesWithMarketNorm = counter(metrics, "samplesWithMarketNorm");
        samplesWithoutStatistics = counter(metrics, "samplesWithoutStatistics");
        positivesReweighted = counter(metrics, "positivesReweighted");
        lateSamples = counter(metrics, "lateSamples");
        publications = counter(metrics, "redisPublications");
        metrics.gauge("sketchCount", () -> lastCount);
        metrics.gauge("sketchRetainedItems", () -> lastRetainedItems);
        metrics.gauge("sketchNormalizedRankError", () -> lastRankError);
        metrics.gauge("referenceBidMicros", () -> lastReferenceBid);
        metrics.gauge("stateBytesPerScenario", () -> lastStateBytes);
    }

    private Counter counter(MetricGroup metrics, String name) {
        return AccumulatingCounter.register(getRuntimeContext(), metrics, METRIC_GROUP, name);
    }

    @Override
    public void processElement(TrainingSample sample, Context ctx, Collector<TrainingSample> out) throws Exception {
        long t = sample.getLabelTimeMs();
        if (t <= ctx.timerService().currentWatermark()) {
            lateSamples.inc();
            handle(t, List.of(sample), ctx.getCurrentKey(), out, ctx);
            return;
        }
        waitingSamples.add(t, sample, ctx.timerService());
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<TrainingSample> out) throws Exception {
        List<TrainingSample> due = waitingSamples.take(time, Comparator.comparing(TrainingSample::getSampleId));
        if (!due.isEmpty()) {
            handle(time, due, ctx.getCurrentKey(), out, ctx);
        }
    }

    private void handle(long time, List<TrainingSample> batch, String scenario, Collector<TrainingSample> out, Context ctx)
            throws Exception {
        long index = Math.floorDiv(time, config.windowMs());
        byte[] previousBytes = previousWindow.value();
        ScenarioWindow current = currentWindow.value() == null ? null : ScenarioWindow.fromBytes(currentWindow.value());
        ScenarioWindow previous = previousBytes == null ? null : ScenarioWindow.fromBytes(previousBytes);
        boolean rolled = false;
        if (current == null) {
            current = new ScenarioWindow(index, config.sketchK());
        } else if (index > current.windowIndex) {
            previous = index == current.windowIndex + 1 ? current : null;
            current = new ScenarioWindow(index, config.sketchK());
            rolled = true;
        }
        long seed = seed(scenario, time);

        ScenarioStatistics before = view(previous, current, seed);
        for (TrainingSample sample : batch) {
            Float norm = before.marketPriceNorm(sample.getMarketPriceMicros());
            float weight = before.bcmWeight(sample.getLabel(), sample.getBidMicros());
            (norm == null ? samplesWithoutStatistics : samplesWithMarketNorm).inc();
            if (sample.getLabel() == 1 && weight != 1.0f) {
                positivesReweighted.inc();
            }
            sample.setMarketPriceNorm(norm); // the function's own record: completed in place, no deep copy
            sample.setBcmWeight(weight);
            out.collect(sample);
        }

        ScenarioWindow updated = current;
        SeededKll.run(seed ^ 0x5DEECE66DL, () -> {
            for (TrainingSample sample : batch) {
                if (sample.getSampleType() != SampleType.POSITIVE_COPY) {
                    updated.addAuction(sample.getBidMicros(), sample.getMarketPriceMicros());
                }
                if (sample.getLabel() == 1) {
                    updated.addPositiveBid(sample.getBidMicros());
                }
            }
        });

        byte[] currentBytes = updated.toBytes();
        currentWindow.update(currentBytes);
        if (rolled) { // the previous window changes only when the current one rolls over
            previousBytes = previous == null ? null : previous.toBytes();
            previousWindow.update(previousBytes);
        }
        lastStateBytes = currentBytes.length + (previousBytes == null ? 0 : previousBytes.length);

        long bucket = Math.floorDiv(time, config.publishIntervalMs());
        Long published = lastPublishedBucket.value();
        if (published == null || bucket > published) {
            ScenarioStatistics after = view(previous, updated, seed + 1);
            ctx.output(REDIS_STATISTICS, after.publication(scenario, time));
            lastPublishedBucket.update(bucket);
            publications.inc();
            lastCount = after.count();
            lastRetainedItems = after.marketPriceSketch().getNumRetained();
            lastRankError = after.normalizedRankError();
            lastReferenceBid = after.referenceBidMicros();
        }
    }

    private ScenarioStatistics view(ScenarioWindow previous, ScenarioWindow current, long seed) {
        if (previous == null) {
            return new ScenarioStatistics(current, current.windowIndex * config.windowMs(), config);
        }
        ScenarioWindow[] merged = new ScenarioWindow[1];
        SeededKll.run(seed, () -> merged[0] = previous.mergedWith(current, config.sketchK()));
        return new ScenarioStatistics(merged[0], previous.windowIndex * config.windowMs(), config);
    }

    private static long seed(String scenario, long time) {
        return scenario.hashCode() * 0x9E3779B97F4A7C15L + time;
    }
}
