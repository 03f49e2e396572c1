package org.ctrranker.operators.features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.metrics.AccumulatingCounter;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.DecodedStateCache;
import org.ctrranker.operators.serde.EarlierStateFormat;
import org.ctrranker.schemas.AvroModels;
import org.ctrranker.schemas.EventTopic;
import org.ctrranker.schemas.SchemaHistory;

/**
 * TEM4CTR user feedback, keyed by user_id on both inputs: impression samples (input 1) and clicks
 * (input 2). Emits each impression sample with {@code feedback} = the user's aligned snapshot as of its
 * impression time (nothing later; the impression itself left out; of its recent exposures those of the sample's ad
 * and category), on the side output {@link #FOR_SCORING} the user's whole snapshot once per impression time, and on
 * {@link #REDIS_MIRROR} the user's current snapshot for the Redis mirror.
 *
 * <p>Order independence: an impression's exposure joins the user's history, and its sample gets its
 * snapshot, only when the watermark passes its impression time; impressions of one time go in
 * impression-id order. So everything that depends on the order of additions (the cap on open exposures,
 * duplicates) follows event time, every exposure and click at or before that time has arrived, and the
 * snapshot is a function of the event log alone: replays give identical snapshots and Redis writes.
 * (Adding exposures on arrival made the cap evict by arrival order: a heavy user's click could be in
 * one run's snapshots and evicted in another's.) Records later than the watermark are handled at once,
 * best effort, and counted ({@code lateImpressions}, {@code lateClicks}).
 *
 * <p>Timers (event time): at each impression time (add its exposures, emit its samples), at each click time (the
 * click becomes visible), on an hourly grid after each event + idle timeout (the user's history up to then
 * is dropped if it had no event in the timeout), and at the end of each mirror interval another timer fell in or an
 * exposure's window closed in (the user's state is pruned, and mirrored as of then if it changed). Every timer prunes:
 * the snapshots do not depend on when, as a snapshot's statuses follow from event times alone.
 */
public final class UserFeedbackFunction extends KeyedCoProcessFunction<String, TrainingSample, AdClick, TrainingSample>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    /** The user's current aligned state, as a versioned write of {@code <prefix>:user:{id}:feedback}. */
    public static final OutputTag<VersionedWrite> REDIS_MIRROR =
            new OutputTag<>("user-feedback-redis-mirror", TypeInformation.of(VersionedWrite.class));

    /**
     * The user's whole snapshot as of each impression time (the main output's samples carry only what their own
     * features need), every impression of that time included: what the scorers take the user's state from, for
     * auctions later than that time. (A sample's own snapshot leaves its impression out: it is not its own history.)
     */
    public static final OutputTag<EncodedSnapshot> FOR_SCORING =
            new OutputTag<>("user-feedback-for-scoring", TypeInformation.of(EncodedSnapshot.class));

    /**
     * In detached mode, each sample's snapshot (what attached mode sets as its {@code feedback}), while the sample
     * itself leaves without one: the labelling stage then holds a few hundred bytes per open impression instead of
     * kilobytes, and {@code FeedbackRejoin} puts the snapshot back on the labelled sample.
     */
    public static final OutputTag<SampleFeedback> FOR_LABELLED_SAMPLES =
            new OutputTag<>("user-feedback-for-labelled-samples", TypeInformation.of(SampleFeedback.class));

    /** Hash fields of the mirror key (see operators/REDIS-KEYS.md). */
    public static final String FIELD_SNAPSHOT = "snapshot";
    public static final String FIELD_AS_OF = "as_of_ms";
    public static final String FIELD_CLICKS = "clicks";

    /** Users whose decoded state a subtask keeps: a few hundred heavy users at tens of KB each at most. */
    static final int DECODED_TIMELINES = 256;

    /** Idle-expiry timers are rounded up to this grid: at most one per user per grid step (the scorer's too). */
    public static final long IDLE_TIMER_GRID_MS = 3_600_000L;

    private final FeedbackConfig config;
    private final boolean detached;

    private transient ValueState<byte[]> timelineState;
    /**
     * A heavy user's events follow each other closely, and decoding the state (hundreds of exposures) at each was a
     * third of this stage's CPU on a flat-out run.
     */
    private transient DecodedStateCache<String, FeedbackTimeline> decodedTimelines;
    private transient EventTimeBuffer waitingSamples;
    private transient EarlierStateFormat earlierFormat;
    private transient Counter samplesEnriched;
    private transient Counter lateImpressions;
    private transient Counter duplicateImpressions;
    private transient Counter lateClicks;
    private transient Counter duplicateClicks;
    private transient Counter clicksOutsideWindow;
    private transient Counter orphanClicks;
    private transient Counter evictedOpenExposures;
    private transient Counter expiredUsers;
    private transient Counter mirrorWrites;
    private transient Histogram stateBytes;
    private transient volatile long lastStateBytes;

    public UserFeedbackFunction(FeedbackConfig config) {
        this(config, false);
    }

    /** {@code detached}: samples leave without feedback, their snapshots on {@link #FOR_LABELLED_SAMPLES}. */
    public UserFeedbackFunction(FeedbackConfig config, boolean detached) {
        this.config = config;
        this.detached = detached;
    }

    /** Whether samples leave without feedback, their snapshots on {@link #FOR_LABELLED_SAMPLES}. */
    public boolean detached() {
        return detached;
    }

    /** Counted as metrics in this group and, for bounded runs, as accumulators {@code <group>.<name>}. */
    static final String METRIC_GROUP = "userFeedback";

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
        timelineState = getRuntimeContext().getState(timelineDescriptor(config));
        decodedTimelines = new DecodedStateCache<>(DECODED_TIMELINES);
        waitingSamples = new EventTimeBuffer(getRuntimeContext(), "samples-waiting-for-watermark", stateTtl(config),
                earlierFormat);

        MetricGroup metrics = getRuntimeContext().getMetricGroup().addGroup(METRIC_GROUP);
        samplesEnriched = counter(metrics, "samplesEnriched");
        lateImpressions = counter(metrics, "lateImpressions");
        duplicateImpressions = counter(metrics, "duplicateImpressions");
        lateClicks = counter(metrics, "lateClicks");
        duplicateClicks = counter(metrics, "duplicateClicks");
        clicksOutsideWindow = counter(metrics, "clicksOutsideWindow");
        orphanClicks = counter(metrics, "orphanClicks");
        evictedOpenExposures = counter(metrics, "evictedOpenExposures");
        expiredUsers = counter(metrics, "expiredUsers");
        mirrorWrites = counter(metrics, "redisMirrorWrites");
        stateBytes = metrics.histogram("stateBytesPerUser", new DescriptiveStatisticsHistogram(1_000));
        metrics.gauge("lastStateBytes", () -> lastStateBytes);
    }

    /** The per-user timeline state ({@link FeedbackTimelineCodec} bytes), with the safety-net TTL. */
    static ValueStateDescriptor<byte[]> timelineDescriptor(FeedbackConfig config) {
        ValueStateDescriptor<byte[]> timeline =
                new ValueStateDescriptor<>("feedback-timeline", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        timeline.enableTimeToLive(stateTtl(config));
        return timeline;
    }

    private static StateTtlConfig stateTtl(FeedbackConfig config) {
        // Processing time (Flink's only TTL clock): a net under the event-time idle timer, never the rule.
        // No incremental cleanup: on the heap backend it walks state entries on every access (the top
        // cost in profiles); expired entries go at full snapshots, in RocksDB compaction, or when read.
        return StateTtlConfig.newBuilder(Duration.ofMillis(config.stateTtlMs()))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .disableCleanupInBackground()
                .cleanupFullSnapshot()
                .cleanupInRocksdbCompactFilter(1_000)
                .build();
    }

    private Counter counter(MetricGroup metrics, String name) {
        return AccumulatingCounter.register(getRuntimeContext(), metrics, METRIC_GROUP, name);
    }

    @Override
    public void processElement1(TrainingSample sample, Context ctx, Collector<TrainingSample> out) throws Exception {
        long t = sample.getImpressionTimeMs();
        // Its window's close changes the state only as the mirror sees it: handled at that interval's end, where a
        // heavy user's closes of one interval share a timer.
        ctx.timerService().registerEventTimeTimer(mirrorTimeOf(t + config.attributionWindowMs()));
        if (t > ctx.timerService().currentWatermark()) {
            // The user's state is read and written when the watermark passes t, not now: its timer does it all.
            waitingSamples.add(t, sample, ctx.timerService());
            return;
        }
        lateImpressions.inc();
        FeedbackTimeline timeline = timeline(ctx.getCurrentKey(), timelineState.value());
        addExposure(timeline, sample);
        emit(sample, timeline.snapshotAt(t, sample.getImpressionId()), ctx, out);
        ctx.output(FOR_SCORING, new EncodedSnapshot(ctx.getCurrentKey(), encode(timeline.snapshotAt(t, null))));
        scheduleIdleExpiry(timeline, t, ctx.timerService());
        save(ctx.getCurrentKey(), timeline);
    }

    @Override
    public void processElement2(AdClick click, Context ctx, Collector<TrainingSample> out) throws Exception {
        long c = click.getClickTimeMs();
        FeedbackTimeline timeline = timeline(ctx.getCurrentKey(), timelineState.value());
        // A click may attach on arrival: it only shows from its time on, and one whose exposure is not
        // in the history yet waits in the state and attaches when the exposure is added.
        switch (timeline.addClick(click.getImpressionId(), c)) {
            case DUPLICATE -> duplicateClicks.inc();
            case OUTSIDE_WINDOW -> clicksOutsideWindow.inc();
            case UNMATCHED -> ctx.timerService().registerEventTimeTimer(c + config.attributionWindowMs());
            case APPLIED -> { }
        }
        if (c <= ctx.timerService().currentWatermark()) {
            lateClicks.inc();
        }
        ctx.timerService().registerEventTimeTimer(c);
        scheduleIdleExpiry(timeline, c, ctx.timerService());
        save(ctx.getCurrentKey(), timeline);
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<TrainingSample> out) throws Exception {
        List<TrainingSample> due = waitingSamples.take(time, Comparator.comparing(TrainingSample::getImpressionId));
        byte[] bytes = timelineState.value();
        if (due.isEmpty() && bytes == null) {
            return; // expired user: a timer registered before expiry
        }
        String user = ctx.getCurrentKey();
        FeedbackTimeline timeline = timeline(user, bytes);
        for (TrainingSample sample : due) {
            addExposure(timeline, sample);
            scheduleIdleExpiry(timeline, sample.getImpressionTimeMs(), ctx.timerService());
        }
        for (TrainingSample sample : due) {
            emit(sample, timeline.snapshotAt(time, sample.getImpressionId()), ctx, out);
        }
        if (!due.isEmpty()) {
            ctx.output(FOR_SCORING, new EncodedSnapshot(user, encode(timeline.snapshotAt(time, null))));
        }
        // Only on the grid: every grid time that can find the user idle has a timer in any arrival order,
        // while other timers (an early click's, for one) do not.
        if (Math.floorMod(time, IDLE_TIMER_GRID_MS) == 0
                && timeline.newestEventAtOrBefore(time) <= time - config.userIdleTimeoutMs()) {
            timeline.expireThrough(time);
            if (timeline.isEmpty() && waitingSamples.isEmpty()) {
                timelineState.clear();
                expiredUsers.inc();
                return;
            }
        }
        orphanClicks.inc(timeline.prune(time));
        long mirrorAt = mirrorTimeOf(time);
        if (mirrorAt == time) {
            mirror(timeline, time, ctx);
        } else {
            // Every timer that can find new content sets the interval's end; a timer only some arrival orders set
            // (an early click's) finds none there, as the snapshot changes only at events' times.
            ctx.timerService().registerEventTimeTimer(mirrorAt);
        }
        save(user, timeline);
    }

    /** The end of the mirror interval {@code time} falls in (the time itself on the grid). */
    private long mirrorTimeOf(long time) {
        return config.mirrorIntervalMs() * Math.floorDiv(time + config.mirrorIntervalMs() - 1, config.mirrorIntervalMs());
    }

    private void addExposure(FeedbackTimeline timeline, TrainingSample sample) {
        if (timeline.addExposure(sample.getImpressionId(), sample.getAdId(), sample.getCategoryId(),
                sample.getImpressionTimeMs()) == FeedbackTimeline.ExposureResult.DUPLICATE) {
            duplicateImpressions.inc(); // its sample still gets a snapshot; the history holds it once
        }
    }

    /** The sample is this function's own (taken out of state, or the input record): completed in place. */
    private void emit(TrainingSample sample, UserFeedbackSnapshot snapshot, Context ctx, Collector<TrainingSample> out) {
        UserFeedbackSnapshot own = forSample(snapshot, sample.getAdId(), sample.getCategoryId());
        if (detached) {
            sample.setFeedback(null);
            ctx.output(FOR_LABELLED_SAMPLES, new SampleFeedback(ctx.getCurrentKey(), sample.getImpressionId(),
                    sample.getImpressionTimeMs(), encode(own)));
        } else {
            sample.setFeedback(own);
        }
        out.collect(sample);
        samplesEnriched.inc();
    }

    /**
     * The snapshot as a training sample carries it: of its recent exposures only those of the sample's ad and of
     * the ad's category (all that the sample's fatigue features count; a heavy user's last N would make every
     * sample, and the labelling stage's state, several kilobytes larger).
     */
    static UserFeedbackSnapshot forSample(UserFeedbackSnapshot snapshot, String adId, String categoryId) {
        boolean hasCategory = categoryId != null && !categoryId.isEmpty();
        List<RecentExposure> relevant = new ArrayList<>();
        for (RecentExposure e : snapshot.getRecentExposures()) {
            if (e.getAdId().equals(adId) || hasCategory && categoryId.equals(e.getCategoryId())) {
                relevant.add(e);
            }
        }
        return new UserFeedbackSnapshot(snapshot.getAsOfMs(), snapshot.getClicks(), snapshot.getRecentUnclicks(),
                snapshot.getClickCount(), relevant);
    }

    /** Emits the user's snapshot as of {@code time} when it differs from the last one mirrored. */
    private void mirror(FeedbackTimeline timeline, long time, OnTimerContext ctx) {
        UserFeedbackSnapshot snapshot = timeline.snapshotAt(time, null);
        byte[] encoded = encode(snapshot);
        long hash = contentHashWithoutAsOf(encoded);
        if (hash == timeline.mirroredHash) {
            return;
        }
        timeline.mirroredHash = hash;
        ctx.output(REDIS_MIRROR, mirrorWrite(config, ctx.getCurrentKey(), snapshot, encoded));
        mirrorWrites.inc();
    }

    /** The Redis write of a user's snapshot; version = the snapshot's event time. */
    public static VersionedWrite mirrorWrite(FeedbackConfig config, String userId, UserFeedbackSnapshot snapshot) {
        return mirrorWrite(config, userId, snapshot, encode(snapshot));
    }

    private static VersionedWrite mirrorWrite(FeedbackConfig config, String userId, UserFeedbackSnapshot snapshot,
            byte[] encoded) {
        Map<String, byte[]> fields = new TreeMap<>();
        fields.put(FIELD_SNAPSHOT, encoded);
        fields.put(FIELD_AS_OF, Long.toString(snapshot.getAsOfMs()).getBytes(StandardCharsets.UTF_8));
        fields.put(FIELD_CLICKS, Integer.toString(snapshot.getClicks().size()).getBytes(StandardCharsets.UTF_8));
        return VersionedWrite.of(RedisKeys.userFeedback(config.redisKeyPrefix(), userId), snapshot.getAsOfMs(),
                config.redisTtlMs(), fields);
    }

    private static final BinaryMessageEncoder<UserFeedbackSnapshot> SNAPSHOT_ENCODER = new BinaryMessageEncoder<>(
            AvroModels.forWriting(UserFeedbackSnapshot.class), UserFeedbackSnapshot.getClassSchema());

    /** Avro single-object encoding (marker, schema fingerprint, body): what the mirror stores. */
    public static byte[] encode(UserFeedbackSnapshot snapshot) {
        try {
            ByteBuffer buffer = SNAPSHOT_ENCODER.encode(snapshot);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads snapshots written with this build's schema and with every earlier one (the scorers' state and the Redis
     * mirror hold them across an upgrade): single-object encoding names the writer's schema by fingerprint, and
     * {@code TrainingSample}'s history holds each earlier snapshot schema.
     */
    private static final BinaryMessageDecoder<UserFeedbackSnapshot> SNAPSHOT_DECODER = snapshotDecoder();

    private static BinaryMessageDecoder<UserFeedbackSnapshot> snapshotDecoder() {
        BinaryMessageDecoder<UserFeedbackSnapshot> decoder = new BinaryMessageDecoder<>(
                SpecificData.getForClass(UserFeedbackSnapshot.class), UserFeedbackSnapshot.getClassSchema());
        for (Schema sample : SchemaHistory.versions(EventTopic.TRAINING_SAMPLES)) {
            Schema.Field feedback = sample.getField("feedback");
            if (feedback != null) {
                feedback.schema().getTypes().stream().filter(t -> t.getType() == Schema.Type.RECORD)
                        .forEach(decoder::addSchema);
            }
        }
        return decoder;
    }

    public static UserFeedbackSnapshot decode(byte[] bytes) throws IOException {
        return SNAPSHOT_DECODER.decode(bytes);
    }

    /**
     * FNV-1a 64 of the encoded snapshot past its as_of_ms: single-object encoding puts a 10-byte header
     * first, then the record's first field, as_of_ms, as a varint; the rest is the aligned content.
     */
    static long contentHashWithoutAsOf(byte[] encoded) {
        long h = 0xcbf29ce484222325L;
        for (int i = SINGLE_OBJECT_HEADER_BYTES + asOfBytes(encoded); i < encoded.length; i++) {
            h ^= encoded[i] & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static final int SINGLE_OBJECT_HEADER_BYTES = 10;

    /** The bytes of the encoded snapshot's as_of_ms, a zig-zag varint after the header. */
    private static int asOfBytes(byte[] encoded) {
        int i = SINGLE_OBJECT_HEADER_BYTES;
        while ((encoded[i] & 0x80) != 0) {
            i++;
        }
        return i + 1 - SINGLE_OBJECT_HEADER_BYTES;
    }

    /** The as_of_ms of an {@link #encode encoded} snapshot, without decoding the rest. */
    public static long asOfMs(byte[] encoded) {
        long zigZag = 0;
        for (int i = 0, shift = 0; ; i++, shift += 7) {
            int b = encoded[SINGLE_OBJECT_HEADER_BYTES + i];
            zigZag |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (zigZag >>> 1) ^ -(zigZag & 1);
            }
        }
    }

    /**
     * Each event's idle deadline gets a timer on a coarse grid (registered again only when it differs from
     * the last one registered; Flink keeps one per time), so the set of idle checks is the same in any
     * arrival order. Idle timers are never deleted (deleting one could delete an impression's timer at the
     * same time): a check that finds newer activity does nothing.
     */
    private void scheduleIdleExpiry(FeedbackTimeline timeline, long eventTimeMs,
            org.apache.flink.streaming.api.TimerService timers) {
        long due = eventTimeMs + config.userIdleTimeoutMs();
        long grid = IDLE_TIMER_GRID_MS * (Math.floorDiv(due, IDLE_TIMER_GRID_MS) + 1);
        if (grid != timeline.idleTimerMs) {
            timers.registerEventTimeTimer(grid);
            timeline.idleTimerMs = grid;
        }
    }

    /** The user's timeline from the state's {@code bytes}. */
    private FeedbackTimeline timeline(String user, byte[] bytes) {
        return bytes == null ? new FeedbackTimeline(config)
                : decodedTimelines.take(user, bytes, b -> FeedbackTimelineCodec.decode(b, config));
    }

    private void save(String user, FeedbackTimeline timeline) throws IOException {
        evictedOpenExposures.inc(timeline.evictedOpen);
        timeline.evictedOpen = 0;
        byte[] bytes = FeedbackTimelineCodec.encode(timeline);
        timelineState.update(bytes);
        decodedTimelines.put(user, bytes, timeline);
        lastStateBytes = bytes.length;
        stateBytes.update(bytes.length);
    }
}
