package org.ctrranker.operators.features;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.redis.VersionedRedisSink;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.serde.AvroTypeInfo;

/** Wiring of the TEM4CTR user feedback stage into a job. */
public final class UserFeatures {

    public static final String UID = "user-feedback";
    public static final String REDIS_SINK_UID = "user-feedback-redis-mirror";

    private UserFeatures() {}

    /**
     * Impression samples (request-time fields filled) and clicks, both keyed by user_id here, in; the
     * same samples with {@code feedback} set to the user's snapshot as of their impression time out
     * (timestamp = impression time; its recent exposures only those the sample's features count, the whole
     * snapshot on {@link #forScoring}). Records must carry event-time timestamps and watermarks.
     */
    public static SingleOutputStreamOperator<TrainingSample> attach(DataStream<TrainingSample> impressionSamples,
            DataStream<AdClick> clicks, FeedbackConfig config) {
        return stage(impressionSamples, clicks, new UserFeedbackFunction(config));
    }

    /**
     * As {@link #attach}, but the samples leave without {@code feedback}: each one's snapshot goes to
     * {@link #feedbackForLabelledSamples}, for {@code FeedbackRejoin} to put back once the sample is labelled.
     */
    public static SingleOutputStreamOperator<TrainingSample> attachDetached(DataStream<TrainingSample> impressionSamples,
            DataStream<AdClick> clicks, FeedbackConfig config) {
        return stage(impressionSamples, clicks, new UserFeedbackFunction(config, true));
    }

    private static SingleOutputStreamOperator<TrainingSample> stage(DataStream<TrainingSample> impressionSamples,
            DataStream<AdClick> clicks, UserFeedbackFunction function) {
        return impressionSamples.keyBy(TrainingSample::getUserId, Types.STRING)
                .connect(clicks.keyBy(AdClick::getUserId, Types.STRING))
                .process(function, AvroTypeInfo.forRecord(TrainingSample.class))
                .uid(UID)
                .name("user feedback (TEM4CTR alignment)");
    }

    /** The samples' snapshots of a stage built by {@link #attachDetached}. */
    public static DataStream<SampleFeedback> feedbackForLabelledSamples(SingleOutputStreamOperator<TrainingSample> stage) {
        return stage.getSideOutput(UserFeedbackFunction.FOR_LABELLED_SAMPLES);
    }

    /** The users' whole snapshots of a stage built by {@link #attach}, one per impression time: the scorers' input. */
    public static DataStream<EncodedSnapshot> forScoring(SingleOutputStreamOperator<TrainingSample> enriched) {
        return enriched.getSideOutput(UserFeedbackFunction.FOR_SCORING);
    }

    /** The stream of Redis mirror writes of a stage built by {@link #attach}. */
    public static DataStream<VersionedWrite> mirrorWrites(SingleOutputStreamOperator<TrainingSample> enriched) {
        return enriched.getSideOutput(UserFeedbackFunction.REDIS_MIRROR);
    }

    /** Sends the mirror writes of {@code enriched} to Redis ({@code ctr:user:{id}:feedback}). */
    public static void mirrorToRedis(SingleOutputStreamOperator<TrainingSample> enriched, VersionedRedisSink sink) {
        mirrorWrites(enriched).sinkTo(sink).uid(REDIS_SINK_UID).name("user feedback -> Redis");
    }
}
