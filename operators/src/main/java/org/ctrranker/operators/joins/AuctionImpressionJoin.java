package org.ctrranker.operators.joins;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.metrics.JobCounter;
import org.ctrranker.operators.runtime.BackgroundPriority;
import org.ctrranker.operators.serde.AvroBytesSerializer;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.EarlierStateFormat;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/**
 * Joins each impression with its auction, keyed by auction_id, in event time. An impression gets
 * the auction's scenario, context, bid, market price and floor. An impression that comes first
 * waits up to {@link JoinConfig#auctionWaitMs()} for its auction; one whose auction never comes,
 * a duplicate, or one of an ad that did not win goes to the dead letters with the reason. An
 * auction is kept {@link JoinConfig#auctionRetentionMs()} for its impressions, then cleared,
 * whether or not any came.
 */
public final class AuctionImpressionJoin extends KeyedCoProcessFunction<String, AdAuction, AdImpression, TrainingSample>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private final JoinConfig config;

    /**
     * The auction, as its Avro bytes: kept for the retention (10 minutes by default) with its candidates, as objects
     * it was dozens per auction on the heap backend's live heap, each copied into the old generation to die there.
     */
    private transient ValueState<byte[]> auction;
    /** Where the auction was kept before it was held as bytes: read until its retention ends. */
    private transient ValueState<AdAuction> auctionAsObject;
    private transient EarlierStateFormat earlierFormat;
    private transient AvroBytesSerializer<AdAuction> auctions;
    private transient ListState<AdImpression> waiting;
    private transient MapState<String, Boolean> joined;
    private transient JobCounter joinedCounter;
    private transient JobCounter missingAuctionCounter;
    private transient JobCounter rejectedCounter;
    private transient JobCounter expiredAuctionCounter;
    private transient AvroCodec<AdImpression> impressionCodec;

    public AuctionImpressionJoin(JoinConfig config) {
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
        ValueStateDescriptor<byte[]> auctionDescriptor =
                new ValueStateDescriptor<>("auction-encoded", AvroBytesSerializer.of(AdAuction.class));
        ValueStateDescriptor<AdAuction> auctionObjectDescriptor =
                new ValueStateDescriptor<>("auction", AvroTypeInfo.forRecord(AdAuction.class));
        ListStateDescriptor<AdImpression> waitingDescriptor =
                new ListStateDescriptor<>("impressions-waiting", AvroTypeInfo.forRecord(AdImpression.class));
        MapStateDescriptor<String, Boolean> joinedDescriptor =
                new MapStateDescriptor<>("joined-impressions", Types.STRING, Types.BOOLEAN);
        auction = getRuntimeContext().getState(StateTtl.withTtl(auctionDescriptor, ttl));
        auctionAsObject = getRuntimeContext().getState(StateTtl.withTtl(auctionObjectDescriptor, ttl));
        auctions = AvroBytesSerializer.of(AdAuction.class);
        waiting = getRuntimeContext().getListState(StateTtl.withTtl(waitingDescriptor, ttl));
        joined = getRuntimeContext().getMapState(StateTtl.withTtl(joinedDescriptor, ttl));
        joinedCounter = JobCounter.register(getRuntimeContext(), "joined");
        missingAuctionCounter = JobCounter.register(getRuntimeContext(), "impressionsWithoutAuction");
        rejectedCounter = JobCounter.register(getRuntimeContext(), "impressionsRejected");
        expiredAuctionCounter = JobCounter.register(getRuntimeContext(), "auctionsWithoutImpression");
        impressionCodec = AvroCodec.forTopic(EventTopic.AD_IMPRESSIONS, AdImpression.class);
    }

    @Override
    public void processElement1(AdAuction value, Context ctx, Collector<TrainingSample> out) throws Exception {
        if (auction.value() != null || (earlierFormat.mayHoldEntries() && auctionAsObject.value() != null)) {
            reject(ctx, "auction " + value.getAuctionId() + " seen twice; the first one is kept", null);
            return;
        }
        auction.update(auctions.encode(value));
        ctx.timerService().registerEventTimeTimer(value.getRequestTimeMs() + config.auctionRetentionMs());
        List<AdImpression> pending = new ArrayList<>();
        for (AdImpression impression : waiting.get()) {
            pending.add(impression);
        }
        waiting.clear();
        for (AdImpression impression : pending) {
            join(value, impression, ctx, out);
        }
    }

    @Override
    public void processElement2(AdImpression value, Context ctx, Collector<TrainingSample> out) throws Exception {
        AdAuction current = auction();
        if (current != null) {
            join(current, value, ctx, out);
        } else {
            waiting.add(value);
            ctx.timerService().registerEventTimeTimer(value.getImpressionTimeMs() + config.auctionWaitMs());
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TrainingSample> out) throws Exception {
        List<AdImpression> stillWaiting = new ArrayList<>();
        for (AdImpression impression : waiting.get()) {
            if (impression.getImpressionTimeMs() + config.auctionWaitMs() <= timestamp) {
                missingAuctionCounter.inc();
                ctx.output(JoinOutputs.DEAD_LETTERS, JoinOutputs.deadLetter(EventTopic.AD_IMPRESSIONS, "join",
                        "auction " + impression.getAuctionId() + " not seen within " + config.auctionWaitMs()
                                + " ms of the impression", impression.getAuctionId(),
                        impressionCodec.encode(impression), impression.getImpressionTimeMs(),
                        ctx.timerService().currentProcessingTime()));
            } else {
                stillWaiting.add(impression);
            }
        }
        waiting.update(stillWaiting);
        AdAuction current = auction();
        if (current != null && current.getRequestTimeMs() + config.auctionRetentionMs() <= timestamp) {
            if (joined.isEmpty()) {
                expiredAuctionCounter.inc();
            }
            auction.clear();
            if (earlierFormat.mayHoldEntries()) {
                auctionAsObject.clear();
            }
            joined.clear();
        }
    }

    private AdAuction auction() throws Exception {
        byte[] encoded = auction.value();
        if (encoded != null) {
            return auctions.decode(encoded);
        }
        return earlierFormat.mayHoldEntries() ? auctionAsObject.value() : null;
    }

    private void join(AdAuction current, AdImpression impression, Context ctx, Collector<TrainingSample> out)
            throws Exception {
        if (joined.contains(impression.getImpressionId())) {
            reject(ctx, "duplicate impression " + impression.getImpressionId(), impression);
            return;
        }
        TrainingSample sample = ImpressionSamples.of(current, impression, config.attributionWindowMs());
        if (sample == null) {
            reject(ctx, "ad " + impression.getAdId() + " did not win auction " + current.getAuctionId(), impression);
            return;
        }
        joined.put(impression.getImpressionId(), Boolean.TRUE);
        joinedCounter.inc();
        out.collect(sample);
    }

    private void reject(Context ctx, String reason, AdImpression impression) {
        rejectedCounter.inc();
        byte[] value = impression == null ? null : impressionCodec.encode(impression);
        ctx.output(JoinOutputs.DEAD_LETTERS, JoinOutputs.deadLetter(
                impression == null ? EventTopic.AD_AUCTIONS : EventTopic.AD_IMPRESSIONS, "join", reason,
                ctx.getCurrentKey(), value, ctx.timestamp() == null ? null : ctx.timestamp(),
                ctx.timerService().currentProcessingTime()));
    }
}
