package org.ctrranker.operators.features;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.metrics.AccumulatingCounter;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.EarlierStateFormat;

/**
 * Per ad (keyed by ad_id on both inputs: impression samples and clicks), its impressions and the clicks on them,
 * counted in event time; the model's item features come from these counts.
 *
 * <p>Ticks: an event counts at the end of the tick that holds its time ({@link ItemStatisticsConfig#tickEnd}), when
 * the watermark has passed it; the events of a tick go in event-time order, so the counts are a function of the
 * event log alone. A click counts once per impression, if its impression came (backfill left out) and it came
 * within the attribution window. At the end of every tick in which the ad had an event, its counts go out on
 * {@link #TICKS} (timestamp = the tick's end) to the scorers.
 *
 * <p>Samples: each impression sample gets {@code item_counts} = the ad's counts at the newest tick end at or before
 * its request time minus the scorer's lag: what the scorer had for that auction. It waits until the watermark has
 * passed that point (usually it has when the sample comes), so a replay stamps the same counts. Backfill samples
 * pass without counts and are not counted. Records behind the watermark are counted in the next open tick
 * ({@code lateEvents}).
 */
public final class ItemStatisticsFunction extends KeyedCoProcessFunction<String, TrainingSample, AdClick, TrainingSample>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    /** Counts at the end of each tick in which the ad had an event. */
    public static final OutputTag<ItemTick> TICKS = new OutputTag<>("item-ticks", TypeInformation.of(ItemTick.class));

    /** Open impressions are dropped on this grid, once their attribution window has passed. */
    static final long OPEN_EXPIRY_GRID_MS = 60_000L;
    /** Idle ads are checked on this grid (one timer per ad per step); the scorers forget them on it too. */
    public static final long IDLE_GRID_MS = 3_600_000L;

    private static final int IMPRESSIONS = 0;
    private static final int CLICKS = 1;
    private static final int LAST_EVENT = 2;
    private static final int IDLE_TIMER = 3;
    /**
     * Unused but for its presence: it tells this layout from the earlier builds', whose counts ended at
     * {@link #IDLE_TIMER} and whose ticks were one array (in {@link #unbucketedTicks}).
     */
    private static final int LAYOUT = 4;
    /** From here on: the first tick end of each bucket in {@link #tickBuckets}, ascending. */
    private static final int FIRST_BUCKET = 5;

    /**
     * An ad's ticks are kept in buckets of this much event time from each bucket's first tick: a tick rewrites its
     * bucket (up to 60 ticks at 1 s) and not the ad's whole history (up to 1,200 at the defaults), which on RocksDB
     * is serialized whole at every write.
     */
    static final long TICK_BUCKET_MS = 60_000L;

    private final ItemStatisticsConfig config;

    /**
     * impressions, clicks, time of the last event, the idle timer set, {@link #LAYOUT}, and from {@link #FIRST_BUCKET}
     * where the ticks a waiting or late sample may still need are.
     */
    private transient ValueState<long[]> countsState;
    /** Buckets of ticks by their first tick end: (tick end, impressions, clicks) triples, oldest first. */
    private transient MapState<Long, long[]> tickBuckets;
    /** The earlier builds' ticks, one array of triples per ad: read once, into buckets. */
    private transient ValueState<long[]> unbucketedTicks;
    /** Events by the end of their tick. */
    private transient MapState<Long, List<ItemEvent>> events;
    /** Impressions whose window is open and that have no click yet: impression id to impression time. */
    private transient MapState<String, Long> open;
    private transient EventTimeBuffer waitingSamples;
    private transient EarlierStateFormat earlierFormat;
    private transient Counter impressionsCounted;
    private transient Counter clicksCounted;
    private transient Counter clicksWithoutImpression;
    private transient Counter duplicateImpressions;
    private transient Counter lateEvents;
    private transient Counter samplesStamped;
    private transient Counter ticksPublished;
    private transient Counter expiredAds;

    public ItemStatisticsFunction(ItemStatisticsConfig config) {
        this.config = config;
    }

    /** Counted as metrics in this group and, for bounded runs, as accumulators {@code <group>.<name>}. */
    static final String METRIC_GROUP = "itemStatistics";

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
        countsState = getRuntimeContext().getState(
                new ValueStateDescriptor<>("item-counts", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        unbucketedTicks = getRuntimeContext().getState(
                new ValueStateDescriptor<>("item-ticks", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        tickBuckets = getRuntimeContext().getMapState(new MapStateDescriptor<>("item-tick-buckets", Types.LONG,
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        events = getRuntimeContext().getMapState(new MapStateDescriptor<>("item-events", Types.LONG,
                new ListTypeInfo<>(TypeInformation.of(ItemEvent.class))));
        open = getRuntimeContext().getMapState(new MapStateDescriptor<>("item-open-impressions", Types.STRING, Types.LONG));
        waitingSamples = new EventTimeBuffer(getRuntimeContext(), "item-samples-waiting-for-watermark", null, earlierFormat);
        MetricGroup metrics = getRuntimeContext().getMetricGroup().addGroup(METRIC_GROUP);
        impressionsCounted = counter(metrics, "impressionsCounted");
        clicksCounted = counter(metrics, "clicksCounted");
        clicksWithoutImpression = counter(metrics, "clicksWithoutImpression");
        duplicateImpressions = counter(metrics, "duplicateImpressions");
        lateEvents = counter(metrics, "lateEvents");
        samplesStamped = counter(metrics, "samplesStamped");
        ticksPublished = counter(metrics, "ticksPublished");
        expiredAds = counter(metrics, "expiredAds");
    }

    private Counter counter(MetricGroup metrics, String name) {
        return AccumulatingCounter.register(getRuntimeContext(), metrics, METRIC_GROUP, name);
    }

    @Override
    public void processElement1(TrainingSample sample, Context ctx, Collector<TrainingSample> out) throws Exception {
        if (sample.getBackfill()) {
            out.collect(sample);
            return;
        }
        TimerService timers = ctx.timerService();
        hold(new ItemEvent(sample.getImpressionId(), sample.getImpressionTimeMs(), false), timers);
        long pointInTime = sample.getRequestTimeMs() - config.stateLagMs();
        if (pointInTime <= timers.currentWatermark()) {
            stamp(sample, pointInTime, out);
        } else {
            waitingSamples.add(pointInTime, sample, timers);
        }
    }

    @Override
    public void processElement2(AdClick click, Context ctx, Collector<TrainingSample> out) throws Exception {
        hold(new ItemEvent(click.getImpressionId(), click.getClickTimeMs(), true), ctx.timerService());
    }

    /** Keeps an event for the end of its tick (the next open one if that has passed), and the ad's idle check. */
    private void hold(ItemEvent event, TimerService timers) throws Exception {
        long watermark = timers.currentWatermark();
        long tickEnd = config.tickEnd(event.timeMs);
        if (tickEnd <= watermark) {
            lateEvents.inc();
            tickEnd = config.tickEnd(watermark + 1);
        }
        List<ItemEvent> due = events.get(tickEnd);
        if (due == null) {
            due = new ArrayList<>(1);
            timers.registerEventTimeTimer(tickEnd);
        }
        due.add(event);
        events.put(tickEnd, due);
        long[] counts = counts();
        counts[LAST_EVENT] = Math.max(counts[LAST_EVENT], event.timeMs);
        long idleCheck = IDLE_GRID_MS * (Math.floorDiv(counts[LAST_EVENT] + config.idleTimeoutMs(), IDLE_GRID_MS) + 1);
        if (idleCheck != counts[IDLE_TIMER]) {
            timers.registerEventTimeTimer(idleCheck);
            counts[IDLE_TIMER] = idleCheck;
        }
        countsState.update(counts);
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<TrainingSample> out) throws Exception {
        List<ItemEvent> due = events.get(time);
        if (due != null) {
            events.remove(time);
            count(due, time, ctx);
        }
        for (TrainingSample sample : waitingSamples.take(time, Comparator.comparing(TrainingSample::getSampleId))) {
            stamp(sample, time, out);
        }
        if (Math.floorMod(time, OPEN_EXPIRY_GRID_MS) == 0) {
            closeWindowsBefore(time - config.attributionWindowMs());
        }
        if (Math.floorMod(time, IDLE_GRID_MS) == 0) {
            expireIfIdle(time);
        }
    }

    private void count(List<ItemEvent> due, long tickEnd, OnTimerContext ctx) throws Exception {
        due.sort(ItemEvent.ORDER);
        long[] counts = counts();
        for (ItemEvent e : due) {
            if (!e.click) {
                if (open.contains(e.impressionId)) {
                    duplicateImpressions.inc();
                    continue;
                }
                open.put(e.impressionId, e.timeMs);
                counts[IMPRESSIONS]++;
                impressionsCounted.inc();
                ctx.timerService().registerEventTimeTimer(
                        OPEN_EXPIRY_GRID_MS * (Math.floorDiv(e.timeMs + config.attributionWindowMs(), OPEN_EXPIRY_GRID_MS) + 1));
                continue;
            }
            Long shown = open.get(e.impressionId);
            if (shown == null || e.timeMs < shown || e.timeMs - shown > config.attributionWindowMs()) {
                clicksWithoutImpression.inc(); // a backfill impression's, a second one, or none in the window
                continue;
            }
            open.remove(e.impressionId);
            counts[CLICKS]++;
            clicksCounted.inc();
        }
        counts = addTick(counts, tickEnd, counts[IMPRESSIONS], counts[CLICKS]);
        counts = dropBucketsBefore(counts, ctx.timerService().currentWatermark() - config.historyMs());
        countsState.update(counts);
        ctx.output(TICKS, new ItemTick(ctx.getCurrentKey(), tickEnd, counts[IMPRESSIONS], counts[CLICKS]));
        ticksPublished.inc();
    }

    /** Appends a tick (the newest) to the last bucket, or to a new one if that began a bucket's span ago. */
    private long[] addTick(long[] counts, long tickEnd, long impressions, long clicks) throws Exception {
        int last = counts.length - 1;
        if (last >= FIRST_BUCKET && tickEnd - counts[last] < TICK_BUCKET_MS) {
            long[] bucket = tickBuckets.get(counts[last]);
            long[] more = Arrays.copyOf(bucket, bucket.length + 3);
            more[bucket.length] = tickEnd;
            more[bucket.length + 1] = impressions;
            more[bucket.length + 2] = clicks;
            tickBuckets.put(counts[last], more);
            return counts;
        }
        tickBuckets.put(tickEnd, new long[] {tickEnd, impressions, clicks});
        long[] more = Arrays.copyOf(counts, counts.length + 1);
        more[counts.length] = tickEnd;
        return more;
    }

    /**
     * Drops the buckets older than the one holding the newest tick at or before {@code oldestNeeded}: a point in time
     * at or after it never takes their ticks.
     */
    private long[] dropBucketsBefore(long[] counts, long oldestNeeded) throws Exception {
        int keepFrom = newestBucketAtOrBefore(counts, oldestNeeded);
        if (keepFrom <= FIRST_BUCKET) {
            return counts;
        }
        for (int i = FIRST_BUCKET; i < keepFrom; i++) {
            tickBuckets.remove(counts[i]);
        }
        long[] kept = new long[counts.length - (keepFrom - FIRST_BUCKET)];
        System.arraycopy(counts, 0, kept, 0, FIRST_BUCKET);
        System.arraycopy(counts, keepFrom, kept, FIRST_BUCKET, counts.length - keepFrom);
        return kept;
    }

    /**
     * Where in {@code counts} the bucket is whose first tick is the newest at or before {@code time}; below
     * {@link #FIRST_BUCKET} if none is.
     */
    private static int newestBucketAtOrBefore(long[] counts, long time) {
        int found = Arrays.binarySearch(counts, FIRST_BUCKET, counts.length, time);
        return found >= 0 ? found : -found - 2;
    }

    /** Sets the sample's counts as of {@code pointInTime}: those of the newest tick end at or before it, if any. */
    private void stamp(TrainingSample sample, long pointInTime, Collector<TrainingSample> out) throws Exception {
        long[] index = counts();
        int at = newestBucketAtOrBefore(index, pointInTime);
        ItemCounts counts = null;
        if (at >= FIRST_BUCKET) {
            long[] bucket = tickBuckets.get(index[at]);
            for (int i = bucket.length - 3; i >= 0; i -= 3) {
                if (bucket[i] <= pointInTime) {
                    counts = new ItemCounts(bucket[i], bucket[i + 1], bucket[i + 2]);
                    break;
                }
            }
        }
        sample.setItemCounts(counts); // the function's own record (see UserFeedbackFunction.emit)
        out.collect(sample);
        samplesStamped.inc();
    }

    private void closeWindowsBefore(long shownBefore) throws Exception {
        List<String> closed = new ArrayList<>();
        for (var entry : open.entries()) {
            if (entry.getValue() < shownBefore) {
                closed.add(entry.getKey());
            }
        }
        for (String id : closed) {
            open.remove(id);
        }
    }

    /** Forgets the ad when nothing happened to it in the idle timeout and nothing of it waits. */
    private void expireIfIdle(long time) throws Exception {
        long[] counts = countsState.value();
        // by its newest tick's end, which is what the scorers hold of it
        if (counts == null || config.tickEnd(counts[LAST_EVENT]) > time - config.idleTimeoutMs() || !events.isEmpty()
                || !waitingSamples.isEmpty()) {
            return;
        }
        countsState.clear();
        tickBuckets.clear();
        unbucketedTicks.clear();
        open.clear();
        expiredAds.inc();
    }

    private long[] counts() throws Exception {
        long[] counts = countsState.value();
        if (counts == null) {
            return new long[] {0, 0, Long.MIN_VALUE, Long.MIN_VALUE, 0};
        }
        if (counts.length > LAYOUT) {
            return counts;
        }
        long[] bucketed = Arrays.copyOf(counts, FIRST_BUCKET);
        long[] ticks = unbucketedTicks.value();
        if (ticks != null) {
            for (int i = 0; i + 2 < ticks.length; i += 3) {
                bucketed = addTick(bucketed, ticks[i], ticks[i + 1], ticks[i + 2]);
            }
            unbucketedTicks.clear();
        }
        countsState.update(bucketed);
        return bucketed;
    }
}
