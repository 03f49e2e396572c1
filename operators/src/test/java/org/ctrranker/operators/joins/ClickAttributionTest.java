package org.ctrranker.operators.joins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.ctrranker.operators.joins.Events.T0;
import static org.ctrranker.operators.joins.Events.auction;
import static org.ctrranker.operators.joins.Events.click;
import static org.ctrranker.operators.joins.Events.impression;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
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
import org.ctrranker.operators.testing.AvroHarnesses;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.SampleType;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.joins.JoinConfig.DelayedFeedbackMode;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.junit.jupiter.api.Test;

class ClickAttributionTest {

    private static final long W = 30 * 60_000L;
    private static final JoinConfig CONFIG = JoinConfig.builder().attributionWindowMs(W).clickWaitMs(120_000)
            .lateClickGraceMs(3_600_000).build();
    private static final TrainingSample IMPRESSION =
            ImpressionSamples.of(auction("a1", T0), impression("a1", "ad-1", T0 + 100), W);
    private static final long IMPRESSION_TIME = T0 + 100;

    @Test
    void aClickInsideTheWindowLabelsTheImpressionOnceTheWindowHasPassed() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 15_000), IMPRESSION_TIME + 15_000);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W - 1));
            assertThat(h.extractOutputValues()).as("not before W has passed").isEmpty();

            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W));
            assertThat(h.extractOutputValues()).singleElement().satisfies(s -> {
                assertThat(s.getLabel()).isEqualTo(1);
                assertThat(s.getClickDelayMs()).isEqualTo(15_000L);
                assertThat(s.getClickTimeMs()).isEqualTo(IMPRESSION_TIME + 15_000);
                assertThat(s.getSampleType()).isEqualTo(SampleType.WINDOW_CLOSED);
                assertThat(s.getLabelTimeMs()).isEqualTo(IMPRESSION_TIME + W);
                assertThat(s.getSampleId()).isEqualTo("a1-p1/window_closed");
            });
        }
    }

    @Test
    void anImpressionWithoutClicksIsANegative() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W));
            assertThat(h.extractOutputValues()).singleElement().satisfies(s -> {
                assertThat(s.getLabel()).isZero();
                assertThat(s.getClickTimeMs()).isNull();
            });
        }
    }

    @Test
    void duplicateClicksCountOnce() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 5_000), IMPRESSION_TIME + 5_000);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 5_000), IMPRESSION_TIME + 5_000);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 9_000), IMPRESSION_TIME + 9_000);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W));
            assertThat(h.extractOutputValues()).singleElement().extracting(TrainingSample::getLabel).isEqualTo(1);
            assertThat(values(h, JoinOutputs.DUPLICATE_CLICKS)).hasSize(2);
        }
    }

    @Test
    void aClickBeforeItsImpressionWaitsForIt() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 2_000), IMPRESSION_TIME + 2_000);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + 1_000));
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W));
            assertThat(h.extractOutputValues()).singleElement().extracting(TrainingSample::getLabel).isEqualTo(1);
            assertThat(h.getSideOutput(JoinOutputs.ORPHAN_CLICKS)).isNull();
        }
    }

    @Test
    void aClickAfterTheWindowIsLateAndTheLabelStaysNegative() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + W + 1), IMPRESSION_TIME + W + 1);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W + 10 * 60_000));
            h.processElement2(click("a1-p1", IMPRESSION_TIME + W + 20 * 60_000), IMPRESSION_TIME + W + 20 * 60_000);
            assertThat(h.extractOutputValues()).singleElement().extracting(TrainingSample::getLabel).isEqualTo(0);
            assertThat(values(h, JoinOutputs.LATE_CLICKS)).hasSize(2);
        }
    }

    @Test
    void aClickWithoutImpressionIsAnOrphanAndEveryKeyIsClearedInTheEnd() throws Exception {
        try (var h = harness(CONFIG)) {
            h.processElement2(click("nope", T0), T0);
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 1_000), IMPRESSION_TIME + 1_000);
            h.processBothWatermarks(new Watermark(T0 + 119_999));
            assertThat(h.getSideOutput(JoinOutputs.ORPHAN_CLICKS)).isNull();
            h.processBothWatermarks(new Watermark(T0 + 120_000));
            assertThat(values(h, JoinOutputs.ORPHAN_CLICKS)).extracting(AdClick::getImpressionId).containsExactly("nope");

            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W + 3_600_000));
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void fakeNegativeModeEmitsANegativeAtOnceAndAPositiveCopyAtTheClick() throws Exception {
        JoinConfig fakeNegative = JoinConfig.builder().attributionWindowMs(W).mode(DelayedFeedbackMode.FAKE_NEGATIVE).build();
        try (var h = harness(fakeNegative)) {
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            assertThat(h.extractOutputValues()).singleElement().satisfies(s -> {
                assertThat(s.getSampleType()).isEqualTo(SampleType.FAKE_NEGATIVE);
                assertThat(s.getLabel()).isZero();
                assertThat(s.getLabelTimeMs()).isEqualTo(IMPRESSION_TIME);
            });
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 7_000), IMPRESSION_TIME + 7_000);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 8_000), IMPRESSION_TIME + 8_000);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W + fakeNegative.lateClickGraceMs()));
            List<TrainingSample> out = h.extractOutputValues();
            assertThat(out).hasSize(2);
            assertThat(out.get(1).getSampleType()).isEqualTo(SampleType.POSITIVE_COPY);
            assertThat(out.get(1).getLabel()).isEqualTo(1);
            assertThat(out.get(1).getLabelTimeMs()).isEqualTo(IMPRESSION_TIME + 7_000);
            assertThat(out.get(0).getSampleId()).isNotEqualTo(out.get(1).getSampleId());
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void arrivalOrderWithinTheWatermarkBoundDoesNotChangeTheLabels() throws Exception {
        List<Object> events = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            TrainingSample sample = ImpressionSamples.of(auction("a" + i, T0 + i), impression("a" + i, "ad-1", T0 + i + 100), W);
            events.add(sample);
            if (i % 3 == 0) {
                events.add(click("a" + i + "-p1", T0 + i + 2_000));
            }
            if (i % 6 == 0) {
                events.add(click("a" + i + "-p1", T0 + i + 2_500));
            }
            if (i % 5 == 0) {
                events.add(click("a" + i + "-p1", T0 + i + W + 200));
            }
        }
        String reference = null;
        Random random = new Random(3);
        for (int round = 0; round < 10; round++) {
            List<Object> shuffled = new ArrayList<>(events);
            Collections.shuffle(shuffled, random);
            try (var h = harness(CONFIG)) {
                for (Object e : shuffled) {
                    if (e instanceof TrainingSample s) {
                        h.processElement1(s, s.getImpressionTimeMs());
                    } else {
                        AdClick c = (AdClick) e;
                        h.processElement2(c, c.getClickTimeMs());
                    }
                }
                h.processBothWatermarks(new Watermark(Long.MAX_VALUE));
                List<String> result = new ArrayList<>();
                h.extractOutputValues().forEach(s -> result.add(s.getSampleId() + "=" + s.getLabel()));
                Collections.sort(result);
                result.add("late=" + values(h, JoinOutputs.LATE_CLICKS).size());
                result.add("dup=" + values(h, JoinOutputs.DUPLICATE_CLICKS).size());
                if (reference == null) {
                    reference = result.toString();
                    assertThat(result).contains("a0-p1/window_closed=1", "a1-p1/window_closed=0", "late=4", "dup=4");
                }
                assertThat(result.toString()).isEqualTo(reference);
            }
        }
    }

    @Test
    void anImpressionACheckpointHoldsAsAnObjectIsLabelledAfterTheRestore() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var before = AvroHarnesses.keyedCo(new OpenImpressionAsObject(CONFIG),
                TrainingSample::getImpressionId, AdClick::getImpressionId, TrainingSample.class)) {
            before.processElement1(IMPRESSION, IMPRESSION_TIME);
            checkpoint = before.snapshot(1, 1);
        }
        try (var h = new KeyedTwoInputStreamOperatorTestHarness<>(new KeyedCoProcessOperator<>(new ClickAttribution(CONFIG)),
                TrainingSample::getImpressionId, AdClick::getImpressionId, Types.STRING)) {
            h.setup(AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
            h.initializeState(checkpoint);
            h.open();
            h.processElement1(IMPRESSION, IMPRESSION_TIME);
            assertThat(values(h, JoinOutputs.DEAD_LETTERS)).as("the restored impression is still open").hasSize(1);
            h.processElement2(click("a1-p1", IMPRESSION_TIME + 15_000), IMPRESSION_TIME + 15_000);
            h.processBothWatermarks(new Watermark(IMPRESSION_TIME + W));
            assertThat(h.extractOutputValues()).singleElement().satisfies(s -> {
                assertThat(s.getLabel()).isEqualTo(1);
                assertThat(s.getClickDelayMs()).isEqualTo(15_000L);
                assertThat(s.getAdId()).isEqualTo(IMPRESSION.getAdId());
            });
        }
    }

    /** Holds the open impression as the function did before it held it as bytes. */
    private static final class OpenImpressionAsObject
            extends KeyedCoProcessFunction<String, TrainingSample, AdClick, TrainingSample> {
        private final JoinConfig config;
        private transient ValueState<TrainingSample> open;

        OpenImpressionAsObject(JoinConfig config) {
            this.config = config;
        }

        @Override
        public void open(OpenContext context) {
            open = getRuntimeContext().getState(StateTtl.withTtl(new ValueStateDescriptor<>("open-impression",
                    AvroTypeInfo.forRecord(TrainingSample.class)), config.stateTtlMs()));
        }

        @Override
        public void processElement1(TrainingSample impression, Context ctx, Collector<TrainingSample> out)
                throws Exception {
            open.update(impression);
            ctx.timerService().registerEventTimeTimer(impression.getImpressionTimeMs() + config.attributionWindowMs());
        }

        @Override
        public void processElement2(AdClick click, Context ctx, Collector<TrainingSample> out) {}
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, TrainingSample, AdClick, TrainingSample> harness(
            JoinConfig config) throws Exception {
        return AvroHarnesses.keyedCo(new ClickAttribution(config),
                TrainingSample::getImpressionId, AdClick::getImpressionId, TrainingSample.class);
    }

    private static <T> List<T> values(KeyedTwoInputStreamOperatorTestHarness<?, ?, ?, ?> h, OutputTag<T> tag) {
        List<T> values = new ArrayList<>();
        var records = h.getSideOutput(tag);
        if (records != null) {
            for (StreamRecord<T> r : records) {
                values.add(r.getValue());
            }
        }
        return values;
    }
}
