package org.ctrranker.operators.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class EarlierStateFormatTest {

    private static final long HOUR_MS = 3_600_000L;

    @Test
    void aJobNeverRestoredFromAnEarlierFormatNeverReadsItAndKeepsNoUnionState() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var harness = harness(new Reporting(HOUR_MS))) {
            harness.open();
            assertThat(report(harness, "a")).isEqualTo("a:false");
            checkpoint = harness.snapshot(1, 1);
        }
        // union list state would have Flink decline every checkpoint while the operator is partly finished
        assertThat(distributionModes(checkpoint)).isNotEmpty().doesNotContain(OperatorStateHandle.Mode.UNION);
        try (var harness = harness(new Reporting(HOUR_MS))) {
            harness.initializeState(checkpoint);
            harness.open();
            assertThat(report(harness, "b")).isEqualTo("b:false");
        }
    }

    @Test
    void aRestoreFromACheckpointWithoutTheWindowReadsTheEarlierFormatForItsTimeToLiveAcrossLaterRestores()
            throws Exception {
        OperatorSubtaskState earlierFormat;
        try (var harness = harness(new WithoutWindow())) {
            harness.open();
            harness.processElement(new StreamRecord<>("a", 1));
            earlierFormat = harness.snapshot(1, 1);
        }
        OperatorSubtaskState afterIt;
        try (var harness = harness(new Reporting(HOUR_MS))) {
            harness.initializeState(earlierFormat);
            harness.open();
            assertThat(report(harness, "b")).isEqualTo("b:true");
            afterIt = harness.snapshot(2, 2);
        }
        try (var harness = harness(new Reporting(HOUR_MS))) {
            harness.initializeState(afterIt);
            harness.open();
            assertThat(report(harness, "c")).as("the window travels in the checkpoint").isEqualTo("c:true");
        }
        try (var harness = harness(new Reporting(1))) {
            harness.initializeState(earlierFormat);
            harness.open();
            Thread.sleep(5);
            assertThat(report(harness, "d")).as("past the time to live").isEqualTo("d:false");
        }
    }

    @Test
    void aWindowKeptAsUnionStateByAnEarlierBuildIsReadAndNotCarriedAsAWindowAgain() throws Exception {
        long openUntil = System.currentTimeMillis() + HOUR_MS;
        OperatorSubtaskState open;
        OperatorSubtaskState closed;
        try (var harness = harness(new UnionWindow(openUntil))) {
            harness.open();
            open = harness.snapshot(1, 1);
        }
        try (var harness = harness(new UnionWindow(System.currentTimeMillis() - HOUR_MS))) {
            harness.open();
            closed = harness.snapshot(1, 1);
        }
        OperatorSubtaskState afterOpen;
        try (var harness = harness(new Reporting(HOUR_MS))) {
            harness.initializeState(open);
            harness.open();
            assertThat(report(harness, "a")).isEqualTo("a:true");
            afterOpen = harness.snapshot(2, 2);
        }
        try (var harness = harness(new Reporting(24 * HOUR_MS))) {
            harness.initializeState(closed);
            harness.open();
            assertThat(report(harness, "b")).as("a closed window stays closed: no new time to live").isEqualTo("b:false");
        }
        try (var harness = harness(new ReadingUnionWindow())) {
            harness.initializeState(afterOpen);
            harness.open();
            assertThat(report(harness, "c")).as("the union entries, emptied once read").isEqualTo("c:[]");
        }
        try (var harness = harness(new Reporting(1))) {
            harness.initializeState(afterOpen);
            harness.open();
            Thread.sleep(5);
            assertThat(report(harness, "d")).as("the window, now in its own state, not a new time to live")
                    .isEqualTo("d:true");
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, String, String> harness(
            KeyedProcessFunction<String, String, String> function) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(function), v -> v, Types.STRING);
    }

    private static String report(KeyedOneInputStreamOperatorTestHarness<String, String, String> harness, String key)
            throws Exception {
        harness.getOutput().clear();
        harness.processElement(new StreamRecord<>(key, 1));
        return harness.extractOutputValues().get(0);
    }

    private static List<OperatorStateHandle.Mode> distributionModes(OperatorSubtaskState checkpoint) {
        return checkpoint.getManagedOperatorState().stream()
                .flatMap(handle -> handle.getStateNameToPartitionOffsets().values().stream())
                .map(OperatorStateHandle.StateMetaInfo::getDistributionMode).toList();
    }

    /** Says, per record, whether the earlier format may hold entries. */
    private static final class Reporting extends KeyedProcessFunction<String, String, String> implements CheckpointedFunction {
        private final long timeToLiveMs;
        private transient EarlierStateFormat format;

        Reporting(long timeToLiveMs) {
            this.timeToLiveMs = timeToLiveMs;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            format = EarlierStateFormat.withTimeToLive(timeToLiveMs);
            format.initialize(context);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            format.snapshot();
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect(value + ":" + format.mayHoldEntries());
        }
    }

    /** A build from before any window: keyed state only. */
    private static final class WithoutWindow extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            getRuntimeContext().getState(new ValueStateDescriptor<>("seen", Types.STRING)).update(value);
        }
    }

    /** A build that kept the window as union list state. */
    private static final class UnionWindow extends KeyedProcessFunction<String, String, String> implements CheckpointedFunction {
        private final long readUntilMs;
        private transient ListState<Long> store;

        UnionWindow(long readUntilMs) {
            this.readUntilMs = readUntilMs;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            store = context.getOperatorStateStore().getUnionListState(
                    new ListStateDescriptor<>(EarlierStateFormat.UNION_WINDOW, LongSerializer.INSTANCE));
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            store.update(List.of(readUntilMs));
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {}
    }

    /** Reads what the union window holds after a restore by the current format. */
    private static final class ReadingUnionWindow extends KeyedProcessFunction<String, String, String>
            implements CheckpointedFunction {
        private transient List<Long> entries;

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            entries = new ArrayList<>();
            context.getOperatorStateStore().getUnionListState(
                    new ListStateDescriptor<>(EarlierStateFormat.UNION_WINDOW, LongSerializer.INSTANCE)).get()
                    .forEach(entries::add);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {}

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect(value + ":" + entries);
        }
    }
}
