package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.memory.MemCheckpointStreamFactory;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFinalizer;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFutures;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.features.EventTimeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The trainer's sample states (waiting for the watermark, held out) on the heap state backend: while a checkpoint is
 * written out (its asynchronous part), the first change of a key's state copies its whole map, and the samples must
 * be shared by that copy, not deep-copied (the trainer holds them all under one key). A checkpoint written by the
 * copying buffer restores into the sharing one.
 */
class SharedSampleStateTest {

    /** What the function under test took out of its states, in order. */
    private static final List<TrainingSample> TAKEN = new ArrayList<>();

    @Test
    void aChangeWhileACheckpointIsWrittenOutSharesTheWaitingAndHeldOutSamples() throws Exception {
        TAKEN.clear();
        List<TrainingSample> samples = OnlineTrainerTest.samples(2, -1, -1);
        TrainingSample first = samples.get(0);
        TrainingSample second = samples.get(1);
        long due = first.getLabelTimeMs();
        try (var harness = harness(true)) {
            harness.open();
            harness.processElement(new StreamRecord<>(first, due));
            OperatorSnapshotFutures checkpoint = startCheckpoint(harness);
            harness.processElement(new StreamRecord<>(second, due));
            OperatorSnapshotFinalizer.create(checkpoint);
            harness.processWatermark(new Watermark(due));
        }
        // waiting (taken in impression-id order), then held out (oldest first)
        assertThat(TAKEN).hasSize(4);
        assertThat(TAKEN.get(0)).isSameAs(first);
        assertThat(TAKEN.get(1)).isSameAs(second);
        assertThat(TAKEN.get(2)).isSameAs(first);
        assertThat(TAKEN.get(3)).isSameAs(second);
    }

    @Test
    void theCopyingBufferDeepCopiesThemSoTheTestCanTellTheDifference() throws Exception {
        TAKEN.clear();
        List<TrainingSample> samples = OnlineTrainerTest.samples(2, -1, -1);
        TrainingSample first = samples.get(0);
        long due = first.getLabelTimeMs();
        try (var harness = harness(false)) {
            harness.open();
            harness.processElement(new StreamRecord<>(first, due));
            OperatorSnapshotFutures checkpoint = startCheckpoint(harness);
            harness.processElement(new StreamRecord<>(samples.get(1), due));
            OperatorSnapshotFinalizer.create(checkpoint);
            harness.processWatermark(new Watermark(due));
        }
        assertThat(TAKEN.get(0)).isNotSameAs(first).isEqualTo(first);
    }

    @Test
    void aCheckpointOfTheCopyingBufferRestoresIntoTheSharingOne() throws Exception {
        TAKEN.clear();
        // two label times, two samples each
        List<TrainingSample> samples = OnlineTrainerTest.samples(4, -1, -1);
        OperatorSubtaskState checkpoint;
        try (var before = harness(false)) {
            before.open();
            for (TrainingSample s : samples) {
                before.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
            checkpoint = before.snapshot(1, 1);
        }
        try (var after = harness(true)) {
            after.initializeState(checkpoint);
            after.open();
            after.processWatermark(new Watermark(samples.get(3).getLabelTimeMs()));
        }
        assertThat(TAKEN).containsExactlyElementsOf(samples);
    }

    /** A checkpoint's synchronous part; its asynchronous part (writing the state out) waits until finalized. */
    private static OperatorSnapshotFutures startCheckpoint(
            KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, String> harness) throws Exception {
        return harness.getOperator().snapshotState(1, 1, CheckpointOptions.forCheckpointWithDefaultLocation(),
                new MemCheckpointStreamFactory(16 << 20));
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, String> harness(boolean sharing)
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new HoldingFunction(sharing)),
                s -> "model", Types.STRING);
    }

    /** Holds every sample as the trainer does: waiting for the watermark at its label time, and held out. */
    private static final class HoldingFunction extends KeyedProcessFunction<String, TrainingSample, String> {
        private final boolean sharing;
        private transient EventTimeBuffer waiting;
        private transient HoldoutWindow holdout;
        private long heldOut;

        HoldingFunction(boolean sharing) {
            this.sharing = sharing;
        }

        @Override
        public void open(OpenContext context) {
            waiting = sharing ? EventTimeBuffer.sharingSamples(getRuntimeContext(), "trainer-waiting")
                    : new EventTimeBuffer(getRuntimeContext(), "trainer-waiting", null);
            holdout = new HoldoutWindow(getRuntimeContext(), 10);
        }

        @Override
        public void processElement(TrainingSample sample, Context ctx, Collector<String> out) throws Exception {
            waiting.add(sample.getLabelTimeMs(), sample, ctx.timerService());
            if (sharing) {
                holdout.add(heldOut++, sample);
            }
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) throws Exception {
            TAKEN.addAll(waiting.take(timestamp, Comparator.comparing(TrainingSample::getImpressionId)));
            if (sharing && waiting.isEmpty()) {
                TAKEN.addAll(holdout.newest(heldOut));
            }
        }
    }
}
