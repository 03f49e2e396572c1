package org.ctrranker.operators.features;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.redis.VersionedRedisSink;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.serde.AvroTypeInfo;

/** Wiring of the AIE auction statistics stage into a job. */
public final class AuctionStatistics {

    public static final String UID = "auction-statistics";
    public static final String REDIS_SINK_UID = "auction-statistics-redis";

    private AuctionStatistics() {}

    /**
     * The scenario a sample's statistics are kept for: its slot and the position it won,
     * {@code <slot_id>#<position>} (market prices differ by slot and by position).
     */
    public static String scenarioKey(TrainingSample sample) {
        return sample.getScenario().getSlotId() + "#" + sample.getPosition();
    }

    /**
     * Labelled samples in; the same samples with {@code market_price_norm} and {@code bcm_weight} set
     * out (timestamp = label time). Records must carry event-time timestamps and watermarks.
     */
    public static SingleOutputStreamOperator<TrainingSample> attach(DataStream<TrainingSample> labelled, AieConfig config) {
        return labelled.keyBy(AuctionStatistics::scenarioKey, Types.STRING)
                .process(new AuctionStatisticsFunction(config), AvroTypeInfo.forRecord(TrainingSample.class))
                .uid(UID)
                .name("auction statistics (AIE)");
    }

    /** The Redis publications ({@code ctr:market:{scenario}}) of a stage built by {@link #attach}. */
    public static DataStream<VersionedWrite> publications(SingleOutputStreamOperator<TrainingSample> enriched) {
        return enriched.getSideOutput(AuctionStatisticsFunction.REDIS_STATISTICS);
    }

    public static void publishToRedis(SingleOutputStreamOperator<TrainingSample> enriched, VersionedRedisSink sink) {
        publications(enriched).sinkTo(sink).uid(REDIS_SINK_UID).name("auction statistics -> Redis");
    }
}
