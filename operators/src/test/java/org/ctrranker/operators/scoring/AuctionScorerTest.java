package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.types.Either;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.CtrModel;
import org.ctrranker.models.ScoringRequest;
import org.ctrranker.models.UserHistory;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.junit.jupiter.api.Test;

/**
 * The scorer on Flink's operator harness: micro-batches close on size, on the processing-time delay and
 * before a checkpoint barrier (so a snapshot holds no unscored auction); a published version is loaded
 * in place and survives a restore; rankings are in eCPM order.
 */
class AuctionScorerTest {

    private static final long T0 = 1_767_571_200_000L;

    @Test
    void batchesCloseOnSizeOnDelayAndBeforeACheckpointBarrier() throws Exception {
        try (var harness = open(config(3, 50))) {
            harness.setProcessingTime(1_000);
            harness.processElement1(auction("a1", "u1"));
            harness.processElement1(auction("a2", "u2"));
            assertThat(scores(harness)).as("two auctions wait for a third or the delay").isEmpty();
            harness.processElement1(auction("a3", "u1"));
            assertThat(scores(harness)).as("size bound: 3 auctions x 3 candidates").hasSize(9);

            harness.processElement1(auction("a4", "u3"));
            harness.setProcessingTime(1_049);
            assertThat(scores(harness)).hasSize(9);
            harness.setProcessingTime(1_050);
            assertThat(scores(harness)).as("delay bound").hasSize(12);

            harness.processElement1(auction("a5", "u3"));
            harness.prepareSnapshotPreBarrier(1);
            assertThat(scores(harness)).as("flushed before the barrier").hasSize(15);
            OperatorSubtaskState snapshot = harness.snapshot(1, 1_100);
            try (var restored = harness(config(3, 50))) {
                restored.initializeState(snapshot);
                restored.open();
                restored.setProcessingTime(10_000);
                assertThat(scores(restored)).as("nothing pending in the checkpoint").isEmpty();
            }
        }
    }

    @Test
    void rankingsAreInEcpmOrderAndANewVersionIsUsedAndRestored() throws Exception {
        OnlineConfig config = config(1, 50);
        ModelUpdate v1 = new ModelUpdate();
        v1.modelName = "ctr";
        v1.version = 1;
        float[] expected;
        try (CtrModel trained = CtrModel.create(config.modelConfig())) {
            // Any change of weights will do: the scorer must reproduce this model's scores exactly.
            trained.train(List.of(ModelInputs.sample(sample())));
            v1.parameters = trained.snapshot();
            AdAuction auction = auction("a2", "u9").getValue().left();
            List<org.ctrranker.models.Features> candidates = new ArrayList<>();
            auction.getCandidates().forEach(c -> candidates.add(ModelInputs.candidate(auction, c)));
            expected = trained.score(List.of(new ScoringRequest(UserHistory.EMPTY, candidates)))[0];
        }
        OperatorSubtaskState snapshot;
        try (var harness = open(config)) {
            harness.processElement1(auction("a1", "u9"));
            harness.processElement2(new StreamRecord<>(v1, T0));
            harness.processElement1(auction("a2", "u9"));
            List<CtrScore> scores = scores(harness);
            assertThat(scores).extracting(CtrScore::getModelVersion).containsExactly(0L, 0L, 0L, 1L, 1L, 1L);
            assertEcpmOrder(scores.subList(3, 6));
            Map<String, Float> byAd = new HashMap<>();
            scores.subList(3, 6).forEach(s -> byAd.put(s.getAdId(), (float) s.getPctr()));
            assertThat(byAd).containsEntry("ad-1", expected[0]).containsEntry("ad-2", expected[1])
                    .containsEntry("ad-3", expected[2]);
            assertThat(harness.getSideOutput(AuctionScorer.REDIS)).as("a ranking and user scores per auction").hasSize(4);
            snapshot = harness.snapshot(1, 1);
        }
        try (var restored = harness(config)) {
            restored.initializeState(snapshot);
            restored.open();
            restored.processElement1(auction("a3", "u9"));
            assertThat(scores(restored)).extracting(CtrScore::getModelVersion).containsOnly(1L);
        }
    }

    private static void assertEcpmOrder(List<CtrScore> ranked) {
        for (int i = 0; i < ranked.size(); i++) {
            CtrScore s = ranked.get(i);
            assertThat(s.getRank()).isEqualTo(i + 1);
            assertThat(s.getEcpm()).isEqualTo(s.getPctr() * s.getBidMicros());
            if (i > 0) {
                assertThat(s.getEcpm()).isLessThanOrEqualTo(ranked.get(i - 1).getEcpm());
            }
        }
    }

    private static List<CtrScore> scores(KeyedTwoInputStreamOperatorTestHarness<String, ?, ?, CtrScore> harness) {
        List<CtrScore> out = new ArrayList<>();
        for (Object o : harness.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof CtrScore s) {
                out.add(s);
            }
        }
        return out;
    }

    private static StreamRecord<Either<AdAuction, TrainingSample>> auction(String auctionId, String userId) {
        AdAuction auction = new AdAuction(auctionId, T0, userId, new Scenario("page", "slot-1", null, 300, 250, null, null),
                new RequestContext(null, null, null, null, 10, 1, List.of("seg-1")), Pricing.CPC, 50_000L,
                List.of(new Candidate("ad-1", "c1", "adv1", "cat-1", 900_000L),
                        new Candidate("ad-2", "c2", "adv2", "cat-2", 600_000L),
                        new Candidate("ad-3", "c3", "adv3", "cat-1", 2_000_000L)),
                List.of(new AuctionWinner("ad-1", 1, 600_000L)));
        return new StreamRecord<>(Either.Left(auction), T0);
    }

    private static TrainingSample sample() {
        AdAuction auction = auction("a0", "u9").getValue().left();
        TrainingSample s = org.ctrranker.operators.joins.ImpressionSamples.of(auction,
                new org.ctrranker.events.AdImpression("i0", "a0", "u9", "ad-1", 1, T0), 60_000);
        s.setLabel(1);
        return s;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Either<AdAuction, TrainingSample>, ModelUpdate, CtrScore>
            harness(OnlineConfig config) throws Exception {
        var harness = new KeyedTwoInputStreamOperatorTestHarness<String, Either<AdAuction, TrainingSample>, ModelUpdate, CtrScore>(
                new AuctionScorer(config), e -> e.isLeft() ? e.left().getUserId() : e.right().getUserId(),
                u -> u.modelName, Types.STRING);
        harness.setup(AvroTypeInfo.forRecord(CtrScore.class).createSerializer(new SerializerConfigImpl()));
        return harness;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Either<AdAuction, TrainingSample>, ModelUpdate, CtrScore>
            open(OnlineConfig config) throws Exception {
        var harness = harness(config);
        harness.open();
        return harness;
    }

    static OnlineConfig config(int batchMaxAuctions, long batchMaxDelayMs) {
        return OnlineConfig.fromSettings(settings(batchMaxAuctions, batchMaxDelayMs));
    }

    static Map<String, String> settings(int batchMaxAuctions, long batchMaxDelayMs) {
        Map<String, String> s = new HashMap<>();
        s.put("ctr.model.name", "ctr");
        s.put("ctr.model.device", "cpu");
        s.put("ctr.model.embedding-dim", "4");
        s.put("ctr.model.hash-buckets", "256");
        s.put("ctr.model.hidden-layers", "8");
        s.put("ctr.model.learning-rate", "0.01");
        s.put("ctr.model.seed", "7");
        s.put("ctr.features.feedback.max-clicks", "5");
        s.put("ctr.features.feedback.unclicks-per-side", "2");
        s.put("ctr.scoring.batch-max-auctions", Integer.toString(batchMaxAuctions));
        s.put("ctr.scoring.batch-max-delay-ms", Long.toString(batchMaxDelayMs));
        s.put("ctr.training.batch-size", "4");
        s.put("ctr.training.publish-every-samples", "8");
        s.put("ctr.training.metrics-window", "100");
        s.put("ctr.attribution.window-ms", "60000");
        s.put("ctr.redis.key-prefix", "t");
        s.put("ctr.scoring.ranking-redis-ttl-ms", "1000");
        s.put("ctr.scoring.user-scores-redis-ttl-ms", "1000");
        s.put("ctr.training.model-redis-ttl-ms", "1000");
        return s;
    }
}
