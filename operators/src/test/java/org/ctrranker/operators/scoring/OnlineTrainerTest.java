package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.lang.reflect.Field;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.TaskInfoImpl;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.models.CtrModel;
import org.ctrranker.operators.joins.ImpressionSamples;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.serde.AvroTypeInfo;
import org.ctrranker.operators.serde.SharedValueSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer on Flink's operator harness, fed the same labelled samples in different arrival orders, with
 * different watermark cadences, through a checkpoint and restore, and through an injected failure: its
 * versions (numbers, record timestamps, parameter bytes, metrics, gate decisions) must not change.
 */
class OnlineTrainerTest {

    private static final long T0 = 1_767_571_200_000L;
    private static final long WINDOW_MS = 60_000;

    @Test
    void versionsAreTheSameWhateverTheArrivalOrderAndWatermarkCadence() throws Exception {
        OnlineConfig config = config(Map.of());
        List<TrainingSample> samples = samples(400, -1, -1);
        List<Object> ordered = run(config, chunks(samples, 10, null));
        List<Object> shuffled = run(config, chunks(samples, 40, new Random(3)));
        List<String> versions = describe(ordered);
        assertThat(describe(shuffled)).isEqualTo(versions);
        List<ModelUpdate> updates = updates(ordered);
        // 400 samples, about 20% held out: some 320 trained, a version every 40, the rest at the end of input.
        assertThat(updates.size()).isBetween(8, 10);
        assertThat(updates).extracting(u -> u.version).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, updates.size()).boxed().toList());
        assertThat(updates).allSatisfy(u -> assertThat(u.samplesTrained % 40 == 0 || u.eventTimeMs == Long.MAX_VALUE).isTrue());
        assertThat(updates.get(updates.size() - 1).eventTimeMs).as("cut when the input ended").isEqualTo(Long.MAX_VALUE);
        assertThat(updates.get(updates.size() - 1).samplesTrained).isBetween(280L, 360L);
        assertThat(updates.get(updates.size() - 1).holdoutSamples).isBetween(40, 120);
        assertThat(updates.get(2).progressiveAuc).isBetween(0.0, 1.0);
        assertThat(updates.get(2).newestSampleTimeMs).isLessThanOrEqualTo(updates.get(2).eventTimeMs);
        assertRecordsNeverBehindTheWatermark(ordered);
        assertRecordsNeverBehindTheWatermark(shuffled);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aRestoreMidStreamContinuesByteForByte(String backend) throws Exception {
        // A held-out window that has wrapped around before the checkpoint (some 40 held out by then).
        OnlineConfig config = config(Map.of("ctr.training.holdout-window", "30"));
        List<List<Object>> input = chunks(samples(400, -1, -1), 40, new Random(5));
        List<String> uninterrupted = describe(run(config, input));
        List<Object> output = new ArrayList<>();
        OperatorSubtaskState checkpoint = checkpointMidStream(config, input, backend, output);
        output.addAll(continueFrom(checkpoint, config, input, backend));
        assertThat(updates(output)).hasSizeGreaterThan(4);
        assertThat(describe(output)).isEqualTo(uninterrupted);
    }

    @Test
    void aModelOfAnotherShapeInTheRestoredStateIsRefusedUnlessTheSettingsSayToStartItAfresh() throws Exception {
        OnlineConfig before = config(Map.of());
        List<List<Object>> input = chunks(samples(400, -1, -1), 40, new Random(5));
        List<Object> output = new ArrayList<>();
        OperatorSubtaskState checkpoint = checkpointMidStream(before, input, "hashmap", output);
        long lastVersion = updates(output).get(updates(output).size() - 1).version;
        assertThat(lastVersion).isPositive();

        OnlineConfig reshaped = config(Map.of("ctr.model.hidden-layers", "6"));
        assertThatThrownBy(() -> continueFrom(checkpoint, reshaped, input, "hashmap"))
                .hasStackTraceContaining("the trainer's model in the restored state is of a model shaped")
                .hasStackTraceContaining(OnlineConfig.RESET_MODEL_ON_SHAPE_CHANGE + "=true");

        OnlineConfig reset = config(Map.of("ctr.model.hidden-layers", "6",
                OnlineConfig.RESET_MODEL_ON_SHAPE_CHANGE, "true"));
        List<ModelUpdate> after = updates(continueFrom(checkpoint, reset, input, "hashmap"));
        assertThat(after).isNotEmpty();
        assertThat(after.get(0).version).as("version numbers go on").isEqualTo(lastVersion + 1);
        try (CtrModel model = CtrModel.create(reset.modelConfig())) {
            for (ModelUpdate update : after) {
                assertThat(CtrModel.shapeOf(update.parameters)).isEqualTo(model.shape());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aCheckpointWithTheUnfinishedBatchInKeyedStateContinuesByteForByte(String backend) throws Exception {
        OnlineConfig config = config(Map.of());
        List<List<Object>> input = chunks(samples(400, -1, -1), 40, new Random(5));
        List<String> uninterrupted = describe(run(config, input));
        List<Object> output = new ArrayList<>();
        List<TrainingSample> moved = new ArrayList<>();
        OperatorSubtaskState checkpoint = withTheBatchInKeyedState(
                checkpointMidStream(config, input, backend, output), backend, moved);
        assertThat(moved).as("the checkpoint holds an unfinished batch").isNotEmpty();
        output.addAll(continueFrom(checkpoint, config, input, backend));
        assertThat(describe(output)).isEqualTo(uninterrupted);
    }

    @Test
    void theGateRejectsACandidateTrainedOnFlippedLabelsAndKeepsTheLiveVersion() throws Exception {
        // A held-out window of ~150 samples moves a good model's AUC by a few hundredths between versions: the
        // margin here is sized to that noise, while training on flipped labels costs far more.
        OnlineConfig config = config(Map.of("ctr.training.gate-max-auc-drop", "0.05"));
        // Samples 300 to 499 teach the opposite of the truth (the held-out slice keeps the true labels).
        List<ModelUpdate> updates = updates(run(config, chunks(samples(700, 300, 500), 10, null)));
        assertThat(updates).extracting(u -> u.version).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, updates.size()).boxed().toList());
        List<ModelUpdate> beforeFlips = updates.stream().filter(u -> u.newestSampleTimeMs < time(300)).toList();
        assertThat(beforeFlips).hasSizeGreaterThan(3).allSatisfy(u -> {
            assertThat(u.live).as(u.gateReason).isTrue();
            assertThat(u.liveVersion).isEqualTo(u.version);
        });
        assertThat(beforeFlips.get(beforeFlips.size() - 1).holdoutAuc).as("the model learnt " + updates).isGreaterThan(0.7);
        List<ModelUpdate> rejected = updates.stream().filter(u -> !u.live).toList();
        assertThat(rejected).isNotEmpty().allSatisfy(u -> {
            assertThat(u.gateReason).startsWith("rejected: held-out AUC");
            assertThat(u.holdoutAuc).isLessThan(u.liveHoldoutAuc - 0.05);
            assertThat(u.liveVersion).isLessThan(u.version);
            assertThat(u.newestSampleTimeMs).isGreaterThanOrEqualTo(time(300));
        });
        assertThat(rejected.stream().filter(u -> u.holdoutAuc < 0.5)).as("flipped labels invert the ranking").isNotEmpty();
        long liveNow = 0;
        for (ModelUpdate u : updates) {
            assertThat(u.liveVersion).as("v" + u.version + " leaves live the last version that passed").isEqualTo(u.live ? u.version : liveNow);
            liveNow = u.liveVersion;
        }
        ModelUpdate firstRejected = rejected.get(0);
        // A rejected version is written as :v<n> only; :current stays on the live one.
        List<VersionedWrite> writes = ServingWrites.model(config, firstRejected);
        assertThat(writes).extracting(w -> w.key).containsExactly("t:model:{ctr}:v" + firstRejected.version);
        assertThat(new String(writes.get(0).field("status"))).isEqualTo("rejected");
        assertThat(ServingWrites.model(config, beforeFlips.get(0))).extracting(w -> w.key)
                .containsExactly("t:model:{ctr}:v1", "t:model:{ctr}:current");
        // Only live versions reach the scorers, and each live one's parameters are what the trainer gated.
        try (CtrModel live = CtrModel.create(config.modelConfig())) {
            live.restore(beforeFlips.get(beforeFlips.size() - 1).parameters);
            assertThat(live.snapshot()).isEqualTo(beforeFlips.get(beforeFlips.size() - 1).parameters);
        }
    }

    @Test
    void theGateHasTheLiveVersionPredictEachHeldOutSampleOnceAndJudgesAsIfOnTheWholeWindow() throws Exception {
        // A window smaller than the held-out slice, so slots are reused and their kept predictions dropped.
        OnlineConfig config = config(Map.of("ctr.training.holdout-window", "60", "ctr.training.gate-max-auc-drop", "1"));
        List<TrainingSample> samples = samples(700, -1, -1);
        List<ModelUpdate> updates;
        long livePredictions;
        try (var harness = harness(config, 0)) {
            harness.open();
            feed(harness, chunks(samples, 10, null));
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            updates = updates(new ArrayList<>(harness.getOutput()));
            livePredictions = (Long) harness.getEnvironment().getAccumulatorRegistry().getUserMap()
                    .get("gateLivePredictions").getLocalValue();
        }
        List<TrainingSample> heldOut = samples.stream().filter(s -> config.gate().isHeldOut(s.getImpressionId()))
                .sorted(java.util.Comparator.comparingLong(TrainingSample::getLabelTimeMs).thenComparing(OnlineTrainer.ORDER))
                .toList();
        assertThat(updates).hasSizeGreaterThan(10).allSatisfy(u -> assertThat(u.live).as(u.gateReason).isTrue());
        // Scoring the whole window with the live version at every cut would take some 60 per version.
        assertThat(livePredictions).isPositive().isLessThanOrEqualTo(heldOut.size());
        // The last cut (end of input) judged the window of the newest 60, against the version before it.
        ModelUpdate last = updates.get(updates.size() - 1);
        ModelUpdate live = updates.get(updates.size() - 2);
        List<TrainingSample> window = heldOut.subList(heldOut.size() - 60, heldOut.size());
        assertThat(last.holdoutSamples).isEqualTo(60);
        // The live version's kept predictions came from calls of other sizes, which differ from one whole-window call
        // by an ulp here and there (plain calls are not batch-invariant: CtrModel.scoreBatchInvariant): an ulp can
        // reorder a near tie, one pair of the window's 60 samples, about 0.001 of AUC.
        assertThat(last.liveHoldoutAuc).isCloseTo(holdoutAuc(config, live.parameters, window), within(0.002));
        assertThat(last.holdoutAuc).isCloseTo(holdoutAuc(config, last.parameters, window), within(1e-9));
    }

    private static double holdoutAuc(OnlineConfig config, byte[] parameters, List<TrainingSample> window) {
        try (CtrModel model = CtrModel.create(config.modelConfig())) {
            model.restore(parameters);
            float[] predicted = model.predict(window.stream().map(ModelInputs::sample).toList());
            double[] scores = new double[predicted.length];
            int[] labels = new int[predicted.length];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = predicted[i];
                labels[i] = window.get(i).getLabel() != 0 ? 1 : 0;
            }
            return org.ctrranker.models.metrics.Auc.of(scores, labels);
        }
    }

    @Test
    void anInjectedFailureThrowsOnTheFirstAttemptOnlyAndTheRetryMatchesACleanRun() throws Exception {
        List<List<Object>> input = chunks(samples(400, -1, -1), 40, new Random(9));
        List<String> clean = describe(run(config(Map.of()), input));
        OnlineConfig chaos = config(Map.of("ctr.fault-injection.trainer-fail-after-samples", "100"));
        OperatorSubtaskState checkpoint;
        List<Object> output = new ArrayList<>();
        try (var first = harness(chaos, 0)) {
            first.open();
            feed(first, input.subList(0, 2));
            checkpoint = first.snapshot(1, 1);
            first.notifyOfCompletedCheckpoint(1);
            output.addAll(first.getOutput());
            assertThatThrownBy(() -> feed(first, input.subList(2, input.size())))
                    .hasStackTraceContaining("injected failure: the trainer has trained 104 samples")
                    .hasStackTraceContaining("trainer-fail-after-samples=100");
        }
        output.addAll(retry(chaos, checkpoint, input.subList(2, input.size())));
        assertThat(describe(output)).isEqualTo(clean);
    }

    @Test
    void aTrainerPastItsInjectedCountBeforeAnyCheckpointFailsWhenOneCompletesAndTheRetryMatchesACleanRun() throws Exception {
        List<List<Object>> input = chunks(samples(400, -1, -1), 40, new Random(9));
        List<String> clean = describe(run(config(Map.of()), input));
        OnlineConfig chaos = config(Map.of("ctr.fault-injection.trainer-fail-after-samples", "100"));
        OperatorSubtaskState checkpoint;
        List<Object> output = new ArrayList<>();
        try (var first = harness(chaos, 0)) {
            first.open();
            feed(first, input.subList(0, 5)); // past 100 samples, no checkpoint yet: no failure
            checkpoint = first.snapshot(1, 1);
            output.addAll(first.getOutput());
            assertThatThrownBy(() -> first.notifyOfCompletedCheckpoint(1))
                    .hasStackTraceContaining("injected failure: the trainer has trained");
        }
        output.addAll(retry(chaos, checkpoint, input.subList(5, input.size())));
        assertThat(describe(output)).isEqualTo(clean);
    }

    /** The second attempt: restores {@code checkpoint}, takes the rest of the input, and ends it. */
    private static List<Object> retry(OnlineConfig config, OperatorSubtaskState checkpoint, List<List<Object>> rest)
            throws Exception {
        try (var retry = harness(config, 1)) {
            retry.initializeState(checkpoint);
            retry.open();
            feed(retry, rest);
            retry.processWatermark(new Watermark(Long.MAX_VALUE));
            return new ArrayList<>(retry.getOutput());
        }
    }

    @Test
    void samplesBehindTheWatermarkAreStillTrainedAndNoVersionIsCutBehindIt() throws Exception {
        OnlineConfig config = config(Map.of());
        List<List<Object>> input = chunks(samples(400, -1, -1), 40, null);
        // Chunks 3 and 7 arrive after their watermark (an upstream that broke its contract).
        for (int late : new int[] {3, 7}) {
            List<Object> chunk = new ArrayList<>(input.get(late));
            chunk.add(0, chunk.remove(chunk.size() - 1));
            input.set(late, chunk);
        }
        List<Object> output = run(config, input);
        assertRecordsNeverBehindTheWatermark(output);
        List<ModelUpdate> updates = updates(output);
        ModelUpdate last = updates.get(updates.size() - 1);
        assertThat(last.samplesTrained + last.holdoutSamples).as("every sample trained on or held out").isEqualTo(400);
    }

    @Test
    void backfillSamplesAreNeverTrainedOnScoredOrHeldOut() throws Exception {
        OnlineConfig config = config(Map.of());
        List<TrainingSample> live = samples(400, -1, -1);
        // Replayed history between the live samples: same users and times, every label flipped, marked backfill.
        List<TrainingSample> mixed = new ArrayList<>();
        for (TrainingSample s : live) {
            mixed.add(s);
            TrainingSample history = TrainingSample.newBuilder(s).setImpressionId("h" + s.getImpressionId())
                    .setSampleId("h" + s.getSampleId()).setAuctionId("h" + s.getAuctionId())
                    .setLabel(1 - s.getLabel()).setBackfill(true).build();
            mixed.add(history);
        }
        List<Object> clean = run(config, chunks(live, 10, null));
        List<Object> withHistory = run(config, chunks(mixed, 20, new Random(5)));
        assertThat(describe(withHistory)).as("the same versions, byte for byte, as without the history").isEqualTo(describe(clean));
        ModelUpdate last = updates(withHistory).get(updates(withHistory).size() - 1);
        assertThat(last.samplesTrained + last.holdoutSamples).as("only the live samples trained on or held out").isEqualTo(400);

        // the control: the same history unmarked is trained on and changes the versions
        List<TrainingSample> unmarked = mixed.stream().map(s -> TrainingSample.newBuilder(s).setBackfill(false).build()).toList();
        List<Object> trainedOnHistory = run(config, chunks(unmarked, 20, null));
        ModelUpdate lastUnmarked = updates(trainedOnHistory).get(updates(trainedOnHistory).size() - 1);
        assertThat(lastUnmarked.samplesTrained).as("unmarked, the history is trained on").isGreaterThan(last.samplesTrained + 100);
        assertThat(describe(trainedOnHistory)).isNotEqualTo(describe(clean));
    }

    @Test
    void backfillSamplesAreCounted() throws Exception {
        OnlineConfig config = config(Map.of());
        List<TrainingSample> samples = samples(40, -1, -1);
        for (int i = 0; i < samples.size(); i += 4) {
            samples.get(i).setBackfill(true);
        }
        try (var harness = harness(config, 0)) {
            harness.open();
            feed(harness, chunks(samples, 10, null));
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            var accumulators = harness.getEnvironment().getAccumulatorRegistry().getUserMap();
            assertThat(accumulators.get("samplesBackfill").getLocalValue()).isEqualTo(10L);
            ModelUpdate last = updates(new ArrayList<>(harness.getOutput())).get(updates(new ArrayList<>(harness.getOutput())).size() - 1);
            assertThat(last.samplesTrained + last.holdoutSamples).isEqualTo(30);
        }
    }

    private static final int CUT = 5;

    /** A checkpoint in the middle of chunk {@link #CUT}, whose samples are buffered but not yet due. */
    private static OperatorSubtaskState checkpointMidStream(OnlineConfig config, List<List<Object>> input, String backend,
            List<Object> output) throws Exception {
        try (var before = harness(config, 0, backend)) {
            before.open();
            assertThat(((AbstractStreamOperator<?>) before.getOperator()).getKeyedStateBackend().getClass().getSimpleName())
                    .startsWith(backend.equals("rocksdb") ? "RocksDB" : "Heap");
            feed(before, input.subList(0, CUT));
            feed(before, List.of(input.get(CUT).subList(0, input.get(CUT).size() - 1)));
            OperatorSubtaskState checkpoint = before.snapshot(1, 1);
            output.addAll(before.getOutput());
            return checkpoint;
        }
    }

    private static List<Object> continueFrom(OperatorSubtaskState checkpoint, OnlineConfig config, List<List<Object>> input,
            String backend) throws Exception {
        try (var after = harness(config, 0, backend)) {
            after.initializeState(checkpoint);
            after.open();
            List<List<Object>> rest = new ArrayList<>();
            rest.add(List.of(input.get(CUT).get(input.get(CUT).size() - 1)));
            rest.addAll(input.subList(CUT + 1, input.size()));
            feed(after, rest);
            after.processWatermark(new Watermark(Long.MAX_VALUE));
            return new ArrayList<>(after.getOutput());
        }
    }

    /**
     * {@code checkpoint} as the trainer wrote it before its unfinished batch moved to operator state: the batch in
     * the keyed list state {@code trainer-pending}. The batch's samples go to {@code moved}.
     */
    private static OperatorSubtaskState withTheBatchInKeyedState(OperatorSubtaskState checkpoint, String backend,
            List<TrainingSample> moved) throws Exception {
        var samples = new SharedValueSerializer<>(
                AvroTypeInfo.forRecord(TrainingSample.class).createSerializer(new SerializerConfigImpl()));
        try (var converter = new KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate>(
                new KeyedProcessOperator<>(new NoFunction()), s -> "ctr", Types.STRING, 128, 1, 0)) {
            if (backend.equals("rocksdb")) {
                converter.setStateBackend(new EmbeddedRocksDBStateBackend());
            }
            converter.setup(TypeInformation.of(ModelUpdate.class).createSerializer(new SerializerConfigImpl()));
            converter.initializeState(checkpoint);
            converter.open();
            var operator = (AbstractStreamOperator<?>) converter.getOperator();
            ListState<TrainingSample> batch = operator.getOperatorStateBackend()
                    .getUnionListState(new ListStateDescriptor<>("trainer-batch", samples));
            batch.get().forEach(moved::add);
            batch.clear();
            KeyedStateBackend<Object> keyed = operator.getKeyedStateBackend();
            keyed.setCurrentKey("ctr");
            keyed.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new ListStateDescriptor<>("trainer-pending", samples)).update(moved);
            return converter.snapshot(2, 2);
        }
    }

    /** Restores and writes back whatever state it is given, touching none. */
    private static final class NoFunction extends KeyedProcessFunction<String, TrainingSample, ModelUpdate> {
        @Override
        public void processElement(TrainingSample sample, Context ctx, Collector<ModelUpdate> out) {
            throw new UnsupportedOperationException();
        }
    }

    // ---- input

    /** Label time of the i-th sample: two samples share each millisecond, so ties are ordered by impression id. */
    private static long time(int i) {
        return T0 + WINDOW_MS + 1000L * (i / 2);
    }

    /**
     * A world the model can learn: ad-0 is clicked most, ad-3 least. Samples {@code flipFrom} (incl.) to
     * {@code flipTo} (excl.) that are not held out carry the opposite label.
     */
    static List<TrainingSample> samples(int count, int flipFrom, int flipTo) {
        QualityGate gate = config(Map.of()).gate();
        double[] ctr = {0.6, 0.3, 0.1, 0.03};
        List<TrainingSample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int ad = new Random(i * 7919L).nextInt(4);
            String user = "u" + (i % 5);
            long shown = time(i) - WINDOW_MS;
            AdAuction auction = new AdAuction("a" + i, shown, user,
                    new org.ctrranker.events.Scenario("page", "slot-1", null, 300, 250, null, null),
                    new org.ctrranker.events.RequestContext(null, null, null, null, 10, 1, List.of("seg-1")),
                    org.ctrranker.events.Pricing.CPC, 50_000L,
                    List.of(new org.ctrranker.events.Candidate("ad-" + ad, "c" + ad, "adv1", "cat-" + ad, 900_000L)),
                    List.of(new org.ctrranker.events.AuctionWinner("ad-" + ad, 1, 600_000L)), false);
            TrainingSample s = ImpressionSamples.of(auction, new AdImpression("i" + i, "a" + i, user, "ad-" + ad, 1, shown),
                    WINDOW_MS);
            int label = new Random(i * 104_729L + 1).nextDouble() < ctr[ad] ? 1 : 0;
            if (i >= flipFrom && i < flipTo && !gate.isHeldOut(s.getImpressionId())) {
                label = 1 - label;
            }
            s.setLabel(label);
            s.setSampleId(s.getImpressionId() + "/window_closed");
            s.setLabelTimeMs(time(i));
            out.add(s);
        }
        return out;
    }

    /**
     * Chunks of {@code size} samples in label-time order, each followed by the watermark at its newest label
     * time; {@code shuffle} reorders the samples inside each chunk (as parallel upstream subtasks would).
     */
    private static List<List<Object>> chunks(List<TrainingSample> samples, int size, Random shuffle) {
        List<List<Object>> out = new ArrayList<>();
        for (int from = 0; from < samples.size(); from += size) {
            List<TrainingSample> chunk = new ArrayList<>(samples.subList(from, Math.min(samples.size(), from + size)));
            long newest = chunk.get(chunk.size() - 1).getLabelTimeMs();
            if (shuffle != null) {
                Collections.shuffle(chunk, shuffle);
            }
            List<Object> events = new ArrayList<>(chunk);
            // Samples of the next chunk may share this chunk's last millisecond: hold the watermark one below it then.
            boolean tie = from + size < samples.size() && samples.get(from + size).getLabelTimeMs() == newest;
            events.add(new Watermark(tie ? newest - 1 : newest));
            out.add(events);
        }
        return out;
    }

    // ---- running

    private static List<Object> run(OnlineConfig config, List<List<Object>> input) throws Exception {
        try (var harness = harness(config, 0)) {
            harness.open();
            feed(harness, input);
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            return new ArrayList<>(harness.getOutput());
        }
    }

    private static void feed(KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate> harness,
            List<List<Object>> chunks) throws Exception {
        for (List<Object> chunk : chunks) {
            for (Object event : chunk) {
                if (event instanceof TrainingSample s) {
                    harness.processElement(new StreamRecord<>(s, s.getLabelTimeMs()));
                } else {
                    harness.processWatermark((Watermark) event);
                }
            }
        }
    }

    static OnlineConfig config(Map<String, String> overrides) {
        Map<String, String> s = new HashMap<>();
        s.put("ctr.model.name", "ctr");
        s.put("ctr.model.device", "cpu");
        s.put("ctr.model.embedding-dim", "4");
        s.put("ctr.model.hash-buckets", "256");
        s.put("ctr.model.hidden-layers", "8");
        s.put("ctr.model.learning-rate", "0.02");
        s.put("ctr.model.seed", "7");
        s.put("ctr.features.feedback.max-clicks", "5");
        s.put("ctr.features.feedback.unclicks-per-side", "2");
        s.put("ctr.scoring.batch-max-auctions", "1");
        s.put("ctr.scoring.batch-max-delay-ms", "50");
        s.put("ctr.training.batch-size", "8");
        s.put("ctr.training.publish-every-samples", "40");
        s.put("ctr.training.metrics-window", "100");
        s.put("ctr.training.holdout-percent", "20");
        s.put("ctr.training.holdout-window", "150");
        s.put("ctr.training.gate-max-auc-drop", "0.005");
        s.put("ctr.training.gate-min-positives", "5");
        s.put("ctr.attribution.window-ms", Long.toString(WINDOW_MS));
        s.put("ctr.redis.key-prefix", "t");
        s.put("ctr.scoring.ranking-redis-ttl-ms", "1000");
        s.put("ctr.scoring.user-scores-redis-ttl-ms", "1000");
        s.put("ctr.training.model-redis-ttl-ms", "1000");
        s.putAll(overrides);
        return OnlineConfig.fromSettings(s);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate> harness(OnlineConfig config,
            int attempt) throws Exception {
        return harness(config, attempt, "hashmap");
    }

    /**
     * A harness whose task runs as attempt {@code attempt} (0: the first; a restart after a failure is 1), on the
     * {@code backend} state backend (hashmap or rocksdb).
     */
    private static KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate> harness(OnlineConfig config,
            int attempt, String backend) throws Exception {
        MockEnvironment environment = new MockEnvironmentBuilder().setTaskName("trainer").setMaxParallelism(128)
                .setParallelism(1).setSubtaskIndex(0).build();
        // MockEnvironment always reports attempt 0 and has no setter: set the task info it hands to the function.
        Field taskInfo = MockEnvironment.class.getDeclaredField("taskInfo");
        taskInfo.setAccessible(true);
        taskInfo.set(environment, new TaskInfoImpl("trainer", 128, 0, 1, attempt));
        var harness = new KeyedOneInputStreamOperatorTestHarness<String, TrainingSample, ModelUpdate>(
                new KeyedProcessOperator<>(new OnlineTrainer(config)), s -> config.modelName(), Types.STRING, environment);
        if (backend.equals("rocksdb")) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend()); // before setup, which builds the backend
        }
        harness.setup(TypeInformation.of(ModelUpdate.class).createSerializer(new SerializerConfigImpl()));
        return harness;
    }

    // ---- output

    private static List<ModelUpdate> updates(List<Object> output) {
        List<ModelUpdate> out = new ArrayList<>();
        for (Object o : output) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof ModelUpdate u) {
                out.add(u);
            }
        }
        return out;
    }

    /** Every field of every version but the wall-clock publication time, the parameters by digest. */
    private static List<String> describe(List<Object> output) throws Exception {
        List<String> out = new ArrayList<>();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Object o : output) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof ModelUpdate u) {
                out.add("@" + r.getTimestamp() + " v" + u.version + " live=" + u.live + " liveVersion=" + u.liveVersion
                        + " gate=" + u.gateReason + " holdout=" + u.holdoutAuc + "/" + u.liveHoldoutAuc + "/"
                        + u.holdoutSamples + "/" + u.holdoutPositives + " trained=" + u.samplesTrained
                        + " cut=" + u.eventTimeMs + " newest=" + u.newestSampleTimeMs + " progressive="
                        + u.progressiveAuc + "/" + u.progressiveLogLoss + " parameters="
                        + Base64.getEncoder().encodeToString(sha.digest(u.parameters)));
            }
        }
        return out;
    }

    private static void assertRecordsNeverBehindTheWatermark(List<Object> output) {
        long watermark = Long.MIN_VALUE;
        for (Object o : output) {
            if (o instanceof Watermark w) {
                watermark = w.getTimestamp();
            } else if (o instanceof StreamRecord<?> r) {
                assertThat(r.getTimestamp()).as("record after watermark " + watermark).isGreaterThan(watermark);
                assertThat(((ModelUpdate) r.getValue()).eventTimeMs).isEqualTo(r.getTimestamp());
            }
        }
    }
}
