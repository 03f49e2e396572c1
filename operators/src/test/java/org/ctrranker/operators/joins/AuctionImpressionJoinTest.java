package org.ctrranker.operators.joins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.joins.Events.T0;
import static org.ctrranker.operators.joins.Events.auction;
import static org.ctrranker.operators.joins.Events.impression;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.testing.AvroHarnesses;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.TrainingSample;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AuctionImpressionJoinTest {

    private static final JoinConfig CONFIG = JoinConfig.builder().auctionWaitMs(60_000).auctionRetentionMs(600_000).build();

    private KeyedTwoInputStreamOperatorTestHarness<String, AdAuction, AdImpression, TrainingSample> harness;

    @BeforeEach
    void open() throws Exception {
        harness = AvroHarnesses.keyedCo(new AuctionImpressionJoin(CONFIG),
                AdAuction::getAuctionId, AdImpression::getAuctionId, TrainingSample.class);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    @Test
    void anImpressionGetsItsAuctionsFields() throws Exception {
        harness.processElement1(auction("a1", T0), T0);
        harness.processElement2(impression("a1", "ad-1", T0 + 100), T0 + 100);

        assertThat(harness.extractOutputValues()).singleElement().satisfies(s -> {
            assertThat(s.getImpressionId()).isEqualTo("a1-p1");
            assertThat(s.getBidMicros()).isEqualTo(900_000L);
            assertThat(s.getMarketPriceMicros()).isEqualTo(600_000L);
            assertThat(s.getFloorPriceMicros()).isEqualTo(50_000L);
            assertThat(s.getCampaignId()).isEqualTo("c1");
            assertThat(s.getCategoryId()).isEqualTo("cat-1");
            assertThat(s.getScenario().getSlotId()).isEqualTo("slot-1");
            assertThat(s.getRequestTimeMs()).isEqualTo(T0);
            assertThat(s.getImpressionTimeMs()).isEqualTo(T0 + 100);
            assertThat(s.getPosition()).isEqualTo(1);
            assertThat(s.getBackfill()).as("live traffic").isFalse();
            assertThat(s.getCandidateCount()).as("the auction's candidates").isEqualTo(auction("a1", T0).getCandidates().size())
                    .isPositive();
        });
    }

    @Test
    void aBackfillAuctionsImpressionIsStillASampleMarkedBackfill() throws Exception {
        var replayed = auction("h1", T0);
        replayed.setBackfill(true);
        harness.processElement1(replayed, T0);
        harness.processElement2(impression("h1", "ad-1", T0 + 100), T0 + 100);
        assertThat(harness.extractOutputValues()).singleElement().satisfies(s -> {
            assertThat(s.getImpressionId()).isEqualTo("h1-p1");
            assertThat(s.getBackfill()).isTrue();
        });
    }

    @Test
    void anImpressionBeforeItsAuctionWaitsForIt() throws Exception {
        harness.processElement2(impression("a1", "ad-1", T0 + 100), T0 + 100);
        harness.processBothWatermarks(new Watermark(T0 + 30_000));
        assertThat(harness.extractOutputValues()).isEmpty();

        harness.processElement1(auction("a1", T0), T0);
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.getSideOutput(JoinOutputs.DEAD_LETTERS)).isNull();
    }

    @Test
    void anImpressionWhoseAuctionNeverComesIsADeadLetterAndLeavesNoState() throws Exception {
        harness.processElement2(impression("a1", "ad-1", T0 + 100), T0 + 100);
        harness.processBothWatermarks(new Watermark(T0 + 100 + 59_999));
        assertThat(harness.getSideOutput(JoinOutputs.DEAD_LETTERS)).isNull();

        harness.processBothWatermarks(new Watermark(T0 + 100 + 60_000));
        assertThat(harness.getSideOutput(JoinOutputs.DEAD_LETTERS)).singleElement()
                .extracting(StreamRecord::getValue)
                .satisfies(d -> assertThat(d.getReason()).contains("auction a1 not seen"));
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void anAuctionWithoutImpressionsExpiresWithoutLeakingState() throws Exception {
        harness.processElement1(auction("a1", T0), T0);
        harness.processElement1(auction("a2", T0 + 1), T0 + 1);
        harness.processElement2(impression("a2", "ad-1", T0 + 100), T0 + 100);
        assertThat(harness.numKeyedStateEntries()).isPositive();

        harness.processBothWatermarks(new Watermark(T0 + 1 + 600_000));
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void duplicateAndNonWinningImpressionsAreDeadLettersWithTheReason() throws Exception {
        harness.processElement1(auction("a1", T0), T0);
        harness.processElement2(impression("a1", "ad-1", T0 + 100), T0 + 100);
        harness.processElement2(impression("a1", "ad-1", T0 + 100), T0 + 100);
        harness.processElement2(new AdImpression("a1-p2", "a1", "u1", "ad-2", 2, T0 + 100), T0 + 100);

        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(harness.getSideOutput(JoinOutputs.DEAD_LETTERS)).extracting(r -> r.getValue().getReason())
                .containsExactly("duplicate impression a1-p1", "ad ad-2 did not win auction a1");
        DeadLetter first = harness.getSideOutput(JoinOutputs.DEAD_LETTERS).peek().getValue();
        assertThat(first.getRawValue()).as("the rejected record is kept").isNotNull();
        assertThat(first.getSourceTopic()).isEqualTo("ad-impressions");
    }

    @Test
    void anAuctionACheckpointHoldsAsAnObjectIsJoinedAndExpiresAfterTheRestore() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var before = AvroHarnesses.keyedCo(new AuctionAsObject(CONFIG),
                AdAuction::getAuctionId, AdImpression::getAuctionId, TrainingSample.class)) {
            before.processElement1(auction("a1", T0), T0);
            checkpoint = before.snapshot(1, 1);
        }
        try (var h = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(new AuctionImpressionJoin(CONFIG)),
                AdAuction::getAuctionId, AdImpression::getAuctionId, Types.STRING)) {
            h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
            h.initializeState(checkpoint);
            h.open();
            h.processElement1(auction("a1", T0), T0);
            assertThat(h.getSideOutput(JoinOutputs.DEAD_LETTERS)).as("the restored auction is still kept").hasSize(1);
            h.processElement2(impression("a1", "ad-1", T0 + 100), T0 + 100);
            assertThat(h.extractOutputValues()).singleElement().satisfies(s -> {
                assertThat(s.getBidMicros()).isEqualTo(900_000L);
                assertThat(s.getScenario().getSlotId()).isEqualTo("slot-1");
            });
            h.processBothWatermarks(new Watermark(T0 + 600_000));
            assertThat(h.numKeyedStateEntries()).as("the retention cleared it").isZero();
        }
    }

    /** Keeps the auction as the join did before it held it as bytes. */
    private static final class AuctionAsObject extends KeyedCoProcessFunction<String, AdAuction, AdImpression, TrainingSample> {
        private final JoinConfig config;
        private transient ValueState<AdAuction> auction;

        AuctionAsObject(JoinConfig config) {
            this.config = config;
        }

        @Override
        public void open(OpenContext context) {
            auction = getRuntimeContext().getState(StateTtl.withTtl(new ValueStateDescriptor<>("auction",
                    AvroTypeInfo.forRecord(AdAuction.class)), config.stateTtlMs()));
        }

        @Override
        public void processElement1(AdAuction value, Context ctx, Collector<TrainingSample> out) throws Exception {
            auction.update(value);
            ctx.timerService().registerEventTimeTimer(value.getRequestTimeMs() + config.auctionRetentionMs());
        }

        @Override
        public void processElement2(AdImpression value, Context ctx, Collector<TrainingSample> out) {}
    }
}
