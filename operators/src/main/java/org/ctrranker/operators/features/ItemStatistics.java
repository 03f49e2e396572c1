package org.ctrranker.operators.features;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.serde.AvroTypeInfo;

/** Wiring of the item statistics stage into a job. */
public final class ItemStatistics {

    public static final String UID = "item-statistics";
    public static final String REDIS_MIRROR_UID = "item-counts-redis-mirror";

    private ItemStatistics() {}

    /**
     * Impression samples and clicks, both keyed by ad_id here, in; the same samples with {@code item_counts} set out
     * (timestamp = impression time), and the ads' counts per tick on {@link #ticks}. Records must carry event-time
     * timestamps and watermarks.
     */
    public static SingleOutputStreamOperator<TrainingSample> attach(DataStream<TrainingSample> impressionSamples,
            DataStream<AdClick> clicks, ItemStatisticsConfig config) {
        return impressionSamples.keyBy(TrainingSample::getAdId, Types.STRING)
                .connect(clicks.keyBy(AdClick::getAdId, Types.STRING))
                .process(new ItemStatisticsFunction(config), AvroTypeInfo.forRecord(TrainingSample.class))
                .uid(UID)
                .name("item statistics (per ad, event time)");
    }

    /** The ads' counts at the end of each tick they changed in, of a stage built by {@link #attach}. */
    public static DataStream<ItemTick> ticks(SingleOutputStreamOperator<TrainingSample> stamped) {
        return stamped.getSideOutput(ItemStatisticsFunction.TICKS);
    }

    /** The Redis writes of those counts ({@code <prefix>:item:{ad_id}}), timestamps and watermarks unchanged. */
    public static DataStream<VersionedWrite> mirrorWrites(SingleOutputStreamOperator<TrainingSample> stamped,
            ItemCountsMirror mirror) {
        return ticks(stamped).map(mirror, TypeInformation.of(VersionedWrite.class))
                .uid(REDIS_MIRROR_UID).name("item counts -> Redis writes");
    }
}
