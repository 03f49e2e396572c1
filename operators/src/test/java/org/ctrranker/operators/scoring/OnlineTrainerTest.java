package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.CtrModel;
import org.ctrranker.operators.joins.ImpressionSamples;
import org.junit.jupiter.api.Test;

/**
 * The trainer on Flink's operator harness: versions at the configured cadence with progressive metrics,
 * and after a restore from a checkpoint it continues from the checkpointed model, the unfinished batch
 * included, with version numbers still rising.
 */
class OnlineTrainerTest {

    private static final long T0 = 1_767_571_200_000L;

    @Test
    void publishesAtItsCadenceAndARestoreContinuesTheModelAndItsVersions() throws Exception {
        OnlineConfig config = AuctionScorerTest.config(1, 50); // batch 4, a version every 8 samples
        OperatorSubtaskState checkpoint;
        List<ModelUpdate> first;
        try (var harness = harness(config)) {
            harness.open();
            for (int i = 0; i < 18; i++) {
                harness.processElement(new StreamRecord<>(sample(i), T0 + i));
            }
            first = updates(harness);
            assertThat(first).extracting(u -> u.version).containsExactly(1L, 2L);
            assertThat(first).extracting(u -> u.samplesTrained).containsExactly(8L, 16L);
            assertThat(first.get(1).progressiveLogLoss).isPositive();
            assertThat(first.get(1).progressiveAuc).isBetween(0.0, 1.0);
            checkpoint = harness.snapshot(1, 1); // 16 trained, 2 waiting for the next batch
        }
        try (var restored = harness(config)) {
            restored.initializeState(checkpoint);
            restored.open();
            for (int i = 18; i < 24; i++) {
                restored.processElement(new StreamRecord<>(sample(i), T0 + i));
            }
            List<ModelUpdate> after = updates(restored);
            assertThat(after).extracting(u -> u.version).as("versions keep rising after a restore").containsExactly(3L);
            assertThat(after.get(0).samplesTrained).as("the 2 checkpointed waiting samples were trained too").isEqualTo(24L);
            // The restored model continued from version 2's weights, not from the initial ones.
            try (CtrModel fresh = CtrModel.create(config.modelConfig());
                    CtrModel fromV2 = CtrModel.create(config.modelConfig());
                    CtrModel fromV3 = CtrModel.create(config.modelConfig())) {
                fromV2.restore(first.get(1).parameters);
                fromV3.restore(after.get(0).parameters);
                assertThat(fromV3.steps()).isEqualTo(fromV2.steps() + 2).isEqualTo(fresh.steps() + 6);
            }
        }
    }

    private static List<ModelUpdate> updates(KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate> h) {
        List<ModelUpdate> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof ModelUpdate u) {
                out.add(u);
            }
        }
        return out;
    }

    private static TrainingSample sample(int i) {
        AdAuction auction = new AdAuction("a" + i, T0 + i, "u" + (i % 3),
                new org.ctrranker.events.Scenario("page", "slot-1", null, 300, 250, null, null),
                new org.ctrranker.events.RequestContext(null, null, null, null, 10, 1, List.of("seg-1")),
                org.ctrranker.events.Pricing.CPC, 50_000L,
                List.of(new org.ctrranker.events.Candidate("ad-" + (i % 4), "c1", "adv1", "cat-1", 900_000L)),
                List.of(new org.ctrranker.events.AuctionWinner("ad-" + (i % 4), 1, 600_000L)));
        TrainingSample s = ImpressionSamples.of(auction, new AdImpression("i" + i, "a" + i, "u" + (i % 3), "ad-" + (i % 4), 1, T0 + i), 60_000);
        s.setLabel(i % 4 == 0 ? 1 : 0);
        s.setLabelTimeMs(T0 + i + 60_000);
        return s;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate> harness(OnlineConfig config)
            throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate>(
                new KeyedProcessOperator<>(new OnlineTrainer(config)), s -> config.modelName(), Types.STRING);
        harness.setup(TypeInformation.of(ModelUpdate.class).createSerializer(new SerializerConfigImpl()));
        return harness;
    }
}
