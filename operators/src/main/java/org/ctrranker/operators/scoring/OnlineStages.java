package org.ctrranker.operators.scoring;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.MultipleConnectedStreams;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.KeyedMultipleInputTransformation;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.features.EncodedSnapshot;
import org.ctrranker.operators.features.ItemTick;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.runtime.MergedStreams;
import org.ctrranker.operators.serde.AvroTypeInfo;

/** Wiring of the online stages into a job: the trainer, the scorer and their Redis writes. */
public final class OnlineStages {

    public static final String TRAINER_UID = "online-trainer";
    public static final String SCORER_UID = "auction-scorer";

    private OnlineStages() {}

    /**
     * Labelled samples in (keyed here by model name); every model version cut out, live or rejected by the
     * quality gate (for {@link ModelVersionSink}); the scorers get only {@link #live} ones. One subtask: a job trains
     * one model, so one key. More subtasks would be idle, and at the end of a bounded input the idle ones finished
     * first, leaving the trainer's union state partly finished: Flink declined every checkpoint until the busy one
     * finished too.
     */
    public static SingleOutputStreamOperator<ModelUpdate> train(DataStream<TrainingSample> samples, OnlineConfig config) {
        return samples.keyBy(new ModelKey(config.modelName()), Types.STRING)
                .process(new OnlineTrainer(config), TypeInformation.of(ModelUpdate.class))
                .setParallelism(1)
                .uid(TRAINER_UID).name("online trainer (keyed by model)");
    }

    /** The versions that passed the quality gate: what scorers may load. Timestamps and watermarks pass unchanged. */
    public static DataStream<ModelUpdate> live(DataStream<ModelUpdate> versions) {
        return versions.filter(update -> update.live).uid("live-model-versions").name("live model versions");
    }

    /**
     * Auctions and the users' feedback snapshots ({@code UserFeatures.forScoring}) in (both keyed here by user_id),
     * the live ones of the trainer's model versions and the ads' counts ({@code ItemStatistics.ticks}) to every scorer
     * (a copy per subtask over a keyed edge: {@link VersionRouting}); one {@link CtrScore} per candidate out, Redis
     * writes on {@link #redisWrites}.
     */
    public static SingleOutputStreamOperator<CtrScore> score(DataStream<AdAuction> auctions,
            DataStream<EncodedSnapshot> snapshots, DataStream<ModelUpdate> models, DataStream<ItemTick> itemTicks,
            OnlineConfig config) {
        TypeInformation<RoutedVersion> routed = TypeInformation.of(RoutedVersion.class);
        DataStream<RoutedVersion> versions = MergedStreams.of("versions and counts in", "versions-and-counts-in",
                        live(models).map(update -> new RoutedVersion(null, update), routed)
                                .uid("model-versions-to-scorers").name("model versions").broadcast(),
                        itemTicks.map(tick -> new RoutedVersion(null, tick), routed)
                                .uid("item-ticks-to-scorers").name("item counts").broadcast())
                .map(new VersionRouting(), routed)
                .uid("model-versions-per-scorer").name("model versions and item counts -> one copy per scorer");
        StreamExecutionEnvironment env = auctions.getExecutionEnvironment();
        KeyedMultipleInputTransformation<CtrScore> scorer = new KeyedMultipleInputTransformation<>(
                "auction scorer (micro-batched)", AuctionScorer.factory(config), AvroTypeInfo.forRecord(CtrScore.class),
                env.getParallelism(), false, Types.STRING);
        // in AuctionScorer's input order
        KeySelector<AdAuction, String> auctionUser = AdAuction::getUserId;
        KeySelector<EncodedSnapshot, String> snapshotUser = EncodedSnapshot::getUserId;
        KeySelector<RoutedVersion, String> route = new RouteKey();
        scorer.addInput(auctions.keyBy(auctionUser, Types.STRING).getTransformation(), auctionUser)
                .addInput(snapshots.keyBy(snapshotUser, Types.STRING).getTransformation(), snapshotUser)
                .addInput(versions.keyBy(route, Types.STRING).getTransformation(), route);
        scorer.setUid(SCORER_UID);
        return new MultipleConnectedStreams(env).transform(scorer);
    }

    /** Rankings and latest user scores of a scorer built by {@link #score}. */
    public static DataStream<VersionedWrite> redisWrites(SingleOutputStreamOperator<CtrScore> scores) {
        return scores.getSideOutput(AuctionScorer.REDIS);
    }

    private static final class ModelKey implements KeySelector<TrainingSample, String> {
        private static final long serialVersionUID = 1L;
        private final String name;

        ModelKey(String name) {
            this.name = name;
        }

        @Override
        public String getKey(TrainingSample sample) {
            return name;
        }
    }

    private static final class RouteKey implements KeySelector<RoutedVersion, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(RoutedVersion value) {
            return value.route;
        }
    }
}
