package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.api.common.typeutils.base.ListSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.runtime.checkpoint.CheckpointOptions;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.memory.MemCheckpointStreamFactory;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFinalizer;
import org.apache.flink.streaming.api.operators.OperatorSnapshotFutures;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.Sample;
import org.ctrranker.operators.features.EventTimeBuffer;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.EarlierStateFormat;
import org.ctrranker.operators.serde.SharedValueSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer's sample states, which hold samples as their bytes: waiting for the watermark and held out. Samples
 * that a checkpoint holds as objects, in any of the formats the trainer wrote before, still come out.
 */
class TrainerSampleStateTest {

    /** What the function under test took out of its states, in order. */
    private static final List<TrainingSample> TAKEN = new ArrayList<>();
    /** The model inputs of its holdout window, oldest first, read after its last sample. */
    private static final List<String> HOLDOUT = new ArrayList<>();

    /**
     * How the function holds waiting samples: as the buffer does now, or as it did before as objects; the last as
     * objects in a checkpoint that says its keyed state is in the current format (which no build writes).
     */
    private enum Held { BYTES, OBJECTS_COPIED, OBJECTS_SHARED, OBJECTS_MARKED_CURRENT }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aChangeWhileACheckpointIsWrittenOutLeavesTheCheckpointAndTheWaitingSamplesWhole(String backend)
            throws Exception {
        TAKEN.clear();
        List<TrainingSample> samples = OnlineTrainerTest.samples(2, -1, -1);
        TrainingSample first = samples.get(0);
        TrainingSample second = samples.get(1);
        long due = first.getLabelTimeMs();
        OperatorSubtaskState checkpoint;
        try (var harness = harness(Held.BYTES, backend)) {
            harness.open();
            harness.processElement(new StreamRecord<>(first, due));
            OperatorSnapshotFutures started = startCheckpoint(harness);
            harness.processElement(new StreamRecord<>(second, due));
            checkpoint = OperatorSnapshotFinalizer.create(started).getJobManagerOwnedState();
            harness.processWatermark(new Watermark(due));
        }
        // taken in impression-id order, decoded afresh
        assertThat(TAKEN).containsExactly(first, second);
        assertThat(TAKEN.get(0)).isNotSameAs(first);
        TAKEN.clear();
        try (var restored = harness(Held.BYTES, backend)) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.processWatermark(new Watermark(due));
        }
        assertThat(TAKEN).as("the checkpoint holds what waited when it began").containsExactly(first);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aHoldoutWindowOfObjectsIsReadUntilItsSlotsAreReplaced(String backend) throws Exception {
        List<TrainingSample> samples = OnlineTrainerTest.samples(6, -1, -1);
        OperatorSubtaskState checkpoint;
        try (var earlier = harness(Held.OBJECTS_SHARED, backend)) {
            earlier.open();
            for (TrainingSample s : samples.subList(0, 4)) {
                earlier.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
            checkpoint = earlier.snapshot(1, 1);
        }
        HOLDOUT.clear();
        try (var after = harness(Held.BYTES, backend)) {
            after.initializeState(checkpoint);
            after.open();
            // the window holds four: these two replace the oldest two
            for (TrainingSample s : samples.subList(4, 6)) {
                after.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
        }
        assertThat(HOLDOUT).containsExactlyElementsOf(samples.subList(2, 6).stream()
                .map(s -> describe(ModelInputs.sample(s))).toList());
    }

    @ParameterizedTest
    @CsvSource({"OBJECTS_COPIED, hashmap", "OBJECTS_SHARED, hashmap", "OBJECTS_COPIED, rocksdb", "OBJECTS_SHARED, rocksdb"})
    void samplesThatWaitedAsObjectsComeOutAtTheirTimeWithThoseAddedAfterTheRestore(Held before, String backend)
            throws Exception {
        TAKEN.clear();
        // three label times, two samples each: the first four wait in the checkpoint, the last two come after it
        List<TrainingSample> samples = OnlineTrainerTest.samples(6, -1, -1);
        OperatorSubtaskState checkpoint;
        try (var earlier = harness(before, backend)) {
            earlier.open();
            for (TrainingSample s : samples.subList(0, 3)) {
                earlier.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
            checkpoint = earlier.snapshot(1, 1);
        }
        try (var after = harness(Held.BYTES, backend)) {
            after.initializeState(checkpoint);
            after.open();
            // the fourth shares its time with the third, which waited as an object
            for (TrainingSample s : samples.subList(3, 6)) {
                after.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
            after.processWatermark(new Watermark(samples.get(1).getLabelTimeMs()));
            assertThat(TAKEN).containsExactlyElementsOf(samples.subList(0, 2));
            after.processWatermark(new Watermark(samples.get(5).getLabelTimeMs()));
            assertThat(after.numEventTimeTimers()).isZero();
        }
        assertThat(TAKEN).containsExactlyElementsOf(samples);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aCheckpointTakenBeforeTheEarlierFormatDrainedIsStillSearchedAfterTheNextRestore(String backend)
            throws Exception {
        TAKEN.clear();
        List<TrainingSample> samples = OnlineTrainerTest.samples(2, -1, -1);
        OperatorSubtaskState checkpoint;
        try (var earlier = harness(Held.OBJECTS_SHARED, backend)) {
            earlier.open();
            for (TrainingSample s : samples) {
                earlier.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
            checkpoint = earlier.snapshot(1, 1);
        }
        try (var between = harness(Held.BYTES, backend)) {
            between.initializeState(checkpoint);
            between.open();
            checkpoint = between.snapshot(2, 2);
        }
        try (var after = harness(Held.BYTES, backend)) {
            after.initializeState(checkpoint);
            after.open();
            after.processWatermark(new Watermark(samples.get(1).getLabelTimeMs()));
        }
        assertThat(TAKEN).containsExactlyElementsOf(samples);
    }

    @Test
    void aCheckpointInTheCurrentFormatIsNotSearchedForTheEarlierOne() throws Exception {
        TAKEN.clear();
        List<TrainingSample> samples = OnlineTrainerTest.samples(2, -1, -1);
        OperatorSubtaskState checkpoint;
        try (var marked = harness(Held.OBJECTS_MARKED_CURRENT, "hashmap")) {
            marked.open();
            for (TrainingSample s : samples) {
                marked.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
            }
            checkpoint = marked.snapshot(1, 1);
        }
        try (var after = harness(Held.BYTES, "hashmap")) {
            after.initializeState(checkpoint);
            after.open();
            after.processWatermark(new Watermark(samples.get(1).getLabelTimeMs()));
            assertThat(after.numEventTimeTimers()).as("the earlier state's timer fired").isZero();
        }
        assertThat(TAKEN).as("what the earlier state holds is not read").isEmpty();
    }

    /** A checkpoint's synchronous part; its asynchronous part (writing the state out) waits until finalized. */
    private static OperatorSnapshotFutures startCheckpoint(
            KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, String> harness) throws Exception {
        return harness.getOperator().snapshotState(1, 1, CheckpointOptions.forCheckpointWithDefaultLocation(),
                new MemCheckpointStreamFactory(16 << 20));
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, String> harness(Held held,
            String backend) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new HoldingFunction(held)),
                s -> "model", Types.STRING);
        if (backend.equals("rocksdb")) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        }
        return harness;
    }

    private static String describe(Sample sample) {
        StringBuilder history = new StringBuilder();
        for (int i = 0; i < sample.history().size(); i++) {
            history.append(sample.history().click(i)).append(Arrays.toString(sample.history().aligned(i)));
        }
        return Arrays.toString(sample.features().ids()) + Arrays.toString(sample.features().dense()) + history
                + " label " + sample.label();
    }

    /**
     * Holds every sample as the trainer does: waiting for the watermark at its label time, and held out in a window
     * of {@link #WINDOW}; or writes them to state as the trainer did before, as objects.
     */
    private static final class HoldingFunction extends KeyedProcessFunction<String, TrainingSample, String>
            implements CheckpointedFunction {
        private static final Comparator<TrainingSample> ORDER = Comparator.comparing(TrainingSample::getImpressionId);
        private static final int WINDOW = 4;
        private final Held held;
        private transient EventTimeBuffer waiting;
        private transient HoldoutWindow holdout;
        private transient MapState<Long, List<TrainingSample>> waitingAsObjects;
        private transient MapState<Integer, TrainingSample> holdoutAsObjects;
        private transient ValueState<Long> heldOut;
        private transient EarlierStateFormat earlierFormat;

        HoldingFunction(Held held) {
            this.held = held;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            if (held == Held.BYTES || held == Held.OBJECTS_MARKED_CURRENT) {
                earlierFormat = EarlierStateFormat.withoutTimeToLive();
                earlierFormat.initialize(context);
            }
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            if (earlierFormat != null) {
                earlierFormat.snapshot();
            }
        }

        @Override
        public void open(OpenContext context) {
            heldOut = getRuntimeContext().getState(new ValueStateDescriptor<>("held-out", Types.LONG));
            switch (held) {
                case BYTES -> {
                    waiting = EventTimeBuffer.ofTrainer(getRuntimeContext(), "trainer-waiting", earlierFormat);
                    holdout = new HoldoutWindow(getRuntimeContext(), WINDOW, earlierFormat);
                }
                // the trainer's first format, then its second
                case OBJECTS_COPIED -> {
                    waitingAsObjects = getRuntimeContext().getMapState(new MapStateDescriptor<>("trainer-waiting",
                            Types.LONG, new ListTypeInfo<>(AvroTypeInfo.forRecord(TrainingSample.class))));
                    holdoutAsObjects = getRuntimeContext().getMapState(new MapStateDescriptor<>("trainer-holdout",
                            Types.INT, AvroTypeInfo.forRecord(TrainingSample.class)));
                }
                case OBJECTS_SHARED, OBJECTS_MARKED_CURRENT -> {
                    waitingAsObjects = getRuntimeContext().getMapState(new MapStateDescriptor<>("trainer-waiting",
                            LongSerializer.INSTANCE,
                            new ListSerializer<>(SharedValueSerializer.of(getRuntimeContext(), TrainingSample.class))));
                    holdoutAsObjects = getRuntimeContext().getMapState(new MapStateDescriptor<>("trainer-holdout",
                            IntSerializer.INSTANCE, SharedValueSerializer.of(getRuntimeContext(), TrainingSample.class)));
                }
            }
        }

        @Override
        public void processElement(TrainingSample sample, Context ctx, Collector<String> out) throws Exception {
            long due = sample.getLabelTimeMs();
            long number = heldOut.value() == null ? 0 : heldOut.value();
            heldOut.update(number + 1);
            if (waiting != null) {
                waiting.add(due, sample, ctx.timerService());
                holdout.add(number, sample);
                HOLDOUT.clear();
                holdout.newestInputs(number + 1).forEach(s -> HOLDOUT.add(describe(s)));
                return;
            }
            List<TrainingSample> atTime = waitingAsObjects.get(due);
            if (atTime == null) {
                atTime = new ArrayList<>();
                ctx.timerService().registerEventTimeTimer(due);
            }
            atTime.add(sample);
            waitingAsObjects.put(due, atTime);
            if (holdoutAsObjects != null) {
                holdoutAsObjects.put((int) (number % WINDOW), sample);
            }
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) throws Exception {
            TAKEN.addAll(waiting.take(timestamp, ORDER));
        }
    }
}
