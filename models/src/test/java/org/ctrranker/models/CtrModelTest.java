package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.ctrranker.models.metrics.Auc;
import org.junit.jupiter.api.Test;

class CtrModelTest {

    static ModelConfig.Builder small() {
        return ModelConfig.builder().sparseFields(3).denseFeatures(2).scenarioFields(1).targetField(1)
                .embeddingDim(8).hashBuckets(4096).historyLength(4).slotsPerClick(4).hiddenLayers(16, 8)
                .learningRate(0.01f).device("cpu");
    }

    /** A toy world: the click depends on the item and on whether the user clicked the item before. */
    static List<Sample> samples(Random random, int count) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int user = random.nextInt(50);
            int item = random.nextInt(20);
            boolean clickedBefore = random.nextBoolean();
            UserHistory history = clickedBefore
                    ? new UserHistory(new long[] {FeatureHash.item("i" + item)}, new long[][] {{FeatureHash.item("i" + (item + 1))}})
                    : UserHistory.EMPTY;
            double logit = -1.5 + (item % 4 == 0 ? 1.5 : 0) + (clickedBefore ? 1.5 : 0);
            int label = random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
            Features f = new Features(new long[] {FeatureHash.of("user", "u" + user), FeatureHash.item("i" + item),
                    FeatureHash.of("slot", "s" + random.nextInt(3))}, new float[] {random.nextFloat(), 0.5f}, 1);
            out.add(new Sample(f, history, label, 1 + random.nextDouble(), 50 + 10 * item + random.nextGaussian(),
                    new long[] {FeatureHash.of("slot", "s" + (item % 3))}, 1f, false));
        }
        return out;
    }

    @Test
    void learnsTheToyWorldAndAm2TracksThePrice() {
        Random random = new Random(11);
        try (CtrModel model = CtrModel.create(small().build())) {
            List<Sample> train = samples(random, 6000);
            for (int epoch = 0; epoch < 2; epoch++) {
                for (int i = 0; i < train.size(); i += 64) {
                    float loss = model.train(train.subList(i, Math.min(train.size(), i + 64)));
                    assertThat(loss).isFinite();
                }
            }
            List<Sample> test = samples(random, 2000);
            float[] p = model.predict(test);
            double[] scores = new double[p.length];
            int[] labels = new int[p.length];
            for (int i = 0; i < p.length; i++) {
                scores[i] = p[i];
                labels[i] = test.get(i).label();
            }
            assertThat(Auc.of(scores, labels)).isGreaterThan(0.68);
            float[] prices = model.predictMarketPrice(test.subList(0, 200));
            double error = 0;
            double spread = 0;
            for (int i = 0; i < prices.length; i++) {
                error += Math.abs(prices[i] - test.get(i).marketPrice());
                spread += Math.abs(145 - test.get(i).marketPrice());
            }
            assertThat(error).isLessThan(spread * 0.6);
        }
    }

    /** The trainer's progressive validation: one forward pass must give what predict-then-train gives. */
    @Test
    void predictThenTrainMatchesPredictFollowedByTrainBitForBit() {
        Random random = new Random(21);
        try (CtrModel oneCall = CtrModel.create(small().build()); CtrModel twoCalls = CtrModel.create(small().build())) {
            for (int size : new int[] {256, 256, 64, 100, 256}) {
                List<Sample> batch = samples(random, size);
                float[] expected = twoCalls.predict(batch);
                twoCalls.train(batch);
                assertThat(oneCall.predictThenTrain(batch)).as("batch of %d", size).containsExactly(expected);
                assertThat(oneCall.checkpoint()).as("after a batch of %d", size).isEqualTo(twoCalls.checkpoint());
            }
            // the probabilities are those before the step: the same batch scores otherwise afterwards
            List<Sample> batch = samples(random, 256);
            float[] before = oneCall.predictThenTrain(batch);
            assertThat(oneCall.predict(batch)).isNotEqualTo(before);
        }
    }

    /** What `bench parity` reads when the job's trainer and its replay part: which of a step's parts differed first. */
    @Test
    void stepFingerprintsNameWhatPartedFirst() {
        Random random = new Random(31);
        List<Sample> first = samples(random, 64);
        List<Sample> second = samples(random, 64);
        List<Sample> third = samples(random, 64);
        List<Sample> relabelled = new ArrayList<>();
        for (Sample s : second) {
            relabelled.add(new Sample(s.features(), s.history(), 1 - s.label(), s.bid(), s.marketPrice(), s.scenario(),
                    s.weight(), s.fakeNegativeCorrection()));
        }
        List<StepFingerprint> a = new ArrayList<>();
        List<StepFingerprint> b = new ArrayList<>();
        try (CtrModel one = CtrModel.create(small().build()); CtrModel other = CtrModel.create(small().build())) {
            one.fingerprintSteps(a::add);
            other.fingerprintSteps(b::add);
            one.train(first);
            other.predictThenTrain(first);
            one.train(second);
            other.train(relabelled);
            one.train(third);
            other.train(third);
            other.fingerprintSteps(null);
            other.train(third);
        }
        assertThat(a).hasSize(3);
        assertThat(b).hasSize(3);
        assertThat(a.get(0)).as("one pass or two, the same step").isEqualTo(b.get(0));
        assertThat(a.get(0).step()).isZero();
        assertThat(a.get(0).rows()).isEqualTo(64);
        assertThat(a.get(1).stateBefore()).isEqualTo(b.get(1).stateBefore());
        assertThat(a.get(1).inputs()).as("labels are a step's input").isNotEqualTo(b.get(1).inputs());
        assertThat(a.get(1).logits()).as("labels do not change the forward pass").isEqualTo(b.get(1).logits());
        assertThat(a.get(1).stateAfter()).isNotEqualTo(b.get(1).stateAfter());
        assertThat(a.get(1).optimizerAfter()).isNotEqualTo(b.get(1).optimizerAfter());
        assertThat(a.get(2).stateBefore()).isEqualTo(a.get(1).stateAfter())
                .isNotEqualTo(b.get(2).stateBefore());
        assertThat(a.get(2).inputs()).isEqualTo(b.get(2).inputs());
        assertThat(a.get(2).logits()).isNotEqualTo(b.get(2).logits());
    }

    @Test
    void posteriorFieldsDoNotChangePredictions() {
        Random random = new Random(5);
        try (CtrModel model = CtrModel.create(small().build())) {
            List<Sample> batch = samples(random, 128);
            model.train(batch);
            List<Sample> changed = new ArrayList<>();
            for (Sample s : batch) {
                changed.add(new Sample(s.features(), s.history(), 1 - s.label(), s.bid() * 7, s.marketPrice() * 3 + 1,
                        new long[] {FeatureHash.of("slot", "other")}, 9f, true));
            }
            assertThat(model.predict(changed)).containsExactly(model.predict(batch));
            // ...while a request-time feature does change them
            Sample s = batch.get(0);
            Sample other = Sample.of(new Features(s.features().ids(), new float[] {5f, -3f}, 1), s.history(), s.label());
            assertThat(model.predict(List.of(other))[0]).isNotEqualTo(model.predict(List.of(s))[0]);
        }
    }

    @Test
    void sharedPerUserPartScoresLikeThePerCandidatePath() {
        Random random = new Random(8);
        try (CtrModel model = CtrModel.create(small().build())) {
            model.train(samples(random, 256));
            List<ScoringRequest> requests = new ArrayList<>();
            for (int r = 0; r < 7; r++) {
                UserHistory h = new UserHistory(new long[] {FeatureHash.item("i" + r), FeatureHash.item("i9")},
                        new long[][] {{FeatureHash.item("i3"), FeatureHash.item("i4")}, {FeatureHash.item("i" + (r + 2))}});
                List<Features> candidates = new ArrayList<>();
                for (Sample s : samples(random, 10)) {
                    candidates.add(s.features());
                }
                requests.add(new ScoringRequest(h, candidates));
            }
            float[][] shared = model.score(requests, true);
            float[][] separate = model.score(requests, false);
            for (int r = 0; r < requests.size(); r++) {
                assertThat(shared[r]).hasSize(10);
                for (int c = 0; c < 10; c++) {
                    assertThat(shared[r][c]).isCloseTo(separate[r][c], within(1e-5f));
                }
            }
            // the history matters: the same candidates under an empty history score differently
            float[][] empty = model.score(List.of(new ScoringRequest(UserHistory.EMPTY, requests.get(0).candidates())));
            assertThat(empty[0]).isNotEqualTo(shared[0]);
        }
    }

    /** A job creates its scorers' and trainer's models at once: the same seed must give the same model each time. */
    @Test
    void modelsCreatedConcurrentlyFromOneSeedAreEqual() throws Exception {
        List<Sample> batch = samples(new Random(3), 50);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<float[]>> predictions = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                predictions.add(pool.submit(() -> {
                    try (CtrModel model = CtrModel.create(small().build())) {
                        return model.predict(batch);
                    }
                }));
            }
            float[] first = predictions.get(0).get();
            for (java.util.concurrent.Future<float[]> prediction : predictions) {
                assertThat(prediction.get()).containsExactly(first);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void snapshotRestoresExactlyAndRejectsWhatItCannotLoad() {
        Random random = new Random(2);
        List<Sample> batch = samples(random, 200);
        try (CtrModel a = CtrModel.create(small().build()); CtrModel b = CtrModel.create(small().seed(99).build())) {
            for (int i = 0; i < 5; i++) {
                a.train(batch);
            }
            b.train(batch); // a model that has trained restores too (its parameters then require gradients)
            assertThat(b.predict(batch)).isNotEqualTo(a.predict(batch));
            byte[] bytes = a.snapshot();
            // on a thread of its own, as in a Flink task: PyTorch's grad mode is per thread and on in a new one,
            // where no indexed write may change a parameter (a leaf that requires a gradient) in place
            onNewThread(() -> b.restore(bytes));
            assertThat(b.predict(batch)).containsExactly(a.predict(batch));
            assertThat(b.steps()).isEqualTo(5);
            b.train(batch); // restored parameters keep training

            assertThatThrownBy(() -> b.restore(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
                    .hasMessageContaining("not a CTR model snapshot");
            byte[] future = bytes.clone();
            future[7] = 9;
            assertThatThrownBy(() -> b.restore(future)).hasMessageContaining("format v9");
            try (CtrModel other = CtrModel.create(small().tem4ctr(false).build())) {
                assertThatThrownBy(() -> other.restore(bytes)).hasMessageContaining("use the same model config")
                        .hasMessageContaining("start that build without this state");
                assertThat(CtrModel.shapeOf(bytes)).as("the header names the shape").isEqualTo(b.shape())
                        .isNotEqualTo(other.shape());
                assertThat(CtrModel.shapeOf(b.checkpoint())).isEqualTo(b.shape());
                assertThat(CtrModel.shapeOf(new byte[] {1, 2, 3})).isNull();
            }
        }
    }

    /** The configuration of the v2 snapshot in the test resources, written by the build before format v3. */
    static ModelConfig.Builder tiny() {
        return small().hashBuckets(256).wideBuckets(256);
    }

    @Test
    void aVersion2SnapshotStillRestoresAndSnapshotsAreNowVersion4() throws IOException {
        byte[] v2 = resource("snapshot-v2.bin");
        float[] predictedByTheOldBuild;
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(resource("snapshot-v2-predictions.bin")))) {
            predictedByTheOldBuild = new float[in.readInt()];
            for (int i = 0; i < predictedByTheOldBuild.length; i++) {
                predictedByTheOldBuild[i] = in.readFloat();
            }
        }
        assertThat(v2[7]).isEqualTo((byte) 2);
        List<Sample> batch = samples(new Random(2), 200); // what the old build trained on and predicted
        try (CtrModel restored = CtrModel.create(tiny().seed(99).build()); CtrModel again = CtrModel.create(tiny().seed(7).build())) {
            restored.restore(v2);
            assertThat(restored.steps()).isEqualTo(5);
            float[] p = restored.predict(batch);
            for (int i = 0; i < p.length; i++) {
                assertThat(p[i]).isCloseTo(predictedByTheOldBuild[i], within(1e-6f));
            }
            byte[] v4 = restored.snapshot();
            assertThat(v4[7]).isEqualTo((byte) CtrModel.FORMAT_VERSION).isEqualTo((byte) 4);
            again.restore(v4);
            assertThat(again.predict(batch)).containsExactly(p);
            assertThat(again.snapshot()).isEqualTo(v4);
        }
    }

    /**
     * A table sized for the ids to come, after a few batches: the snapshot holds the rows those batches touched and
     * the dense layers, not the table (131,072 rows of 8 floats, 4 MB). It restores exactly into a model of another
     * seed that has trained on other ids, whose own initial table and changed rows are not the snapshot's.
     */
    @Test
    void aSnapshotHoldsTheRowsTrainingChangedAndRestoresExactlyIntoAnotherSeed() {
        ModelConfig.Builder large = small().hashBuckets(131_072).wideBuckets(262_144);
        List<Sample> batch = samples(new Random(5), 64);
        try (CtrModel a = CtrModel.create(large.build()); CtrModel b = CtrModel.create(large.seed(99).build())) {
            byte[] fresh = a.snapshot();
            a.train(batch);
            a.train(batch);
            b.train(samples(new Random(6), 64));
            byte[] trained = a.snapshot();
            // the dense layers (84 KB here); the table and the wide weights are as they started
            assertThat(fresh.length).isLessThan(100_000);
            // users, items, slots and history items of the batch: about 80 rows of 36 bytes, plus the wide weights
            assertThat(trained.length).isGreaterThan(fresh.length + 80 * 36).isLessThan(fresh.length + 20_000);
            onNewThread(() -> b.restore(trained));
            assertThat(b.predict(batch)).containsExactly(a.predict(batch));
            assertThat(b.snapshot()).isEqualTo(trained);
        }
    }

    /** Most rows changed: the table is written whole, which is then smaller than its changed rows with their indices. */
    @Test
    void aTableWithMostRowsChangedIsWrittenWhole() {
        ModelConfig.Builder tinyTable = small().hashBuckets(16);
        try (CtrModel a = CtrModel.create(tinyTable.build()); CtrModel b = CtrModel.create(tinyTable.seed(99).build())) {
            List<Sample> batch = samples(new Random(7), 200);
            a.train(batch);
            byte[] snapshot = a.snapshot();
            b.restore(snapshot);
            assertThat(b.predict(batch)).containsExactly(a.predict(batch));
        }
    }

    /**
     * A snapshot's changed rows mean nothing over another initial table: one whose writer's table (its fingerprint)
     * is not the one this build draws for the seed it names is refused, and changes nothing.
     */
    @Test
    void aSnapshotOverAnotherInitialTableIsRefused() {
        List<Sample> batch = samples(new Random(8), 64);
        try (CtrModel a = CtrModel.create(small().build()); CtrModel b = CtrModel.create(small().seed(99).build())) {
            a.train(batch);
            byte[] snapshot = a.snapshot();
            int fingerprintAt = 2 * Integer.BYTES + 2 + small().build().shapeKey().length() + Long.BYTES
                    + 6 * Double.BYTES + Long.BYTES;
            snapshot[fingerprintAt + 7] ^= 1;
            float[] before = b.predict(batch);
            assertThatThrownBy(() -> b.restore(snapshot)).hasMessageContaining("draws differently");
            assertThat(b.predict(batch)).containsExactly(before);
        }
    }

    @Test
    void aTruncatedSnapshotIsRefusedAndChangesNothing() {
        List<Sample> batch = samples(new Random(3), 100);
        try (CtrModel a = CtrModel.create(small().build()); CtrModel b = CtrModel.create(small().seed(99).build())) {
            a.train(batch);
            byte[] snapshot = a.snapshot();
            float[] before = b.predict(batch);
            assertThatThrownBy(() -> b.restore(java.util.Arrays.copyOf(snapshot, snapshot.length - 4)))
                    .hasMessageContaining("corrupt CTR model snapshot");
            assertThatThrownBy(() -> b.restore(java.util.Arrays.copyOf(snapshot, snapshot.length + 4)))
                    .hasMessageContaining("corrupt CTR model snapshot");
            assertThat(b.predict(batch)).containsExactly(before);
        }
    }

    /**
     * Snapshots and checkpoints of a model with an 8 MB embedding allocate no large Java array but the bytes they
     * hand out: format v2 copied each parameter whole, several times (3.7 times a snapshot's size in all), in arrays
     * of megabytes that G1 allocates as humongous, each of which can start a collection that pauses the scorers.
     * Read from Flight Recorder's allocations outside thread-local buffers, where every large array shows.
     */
    @Test
    void snapshotsAndCheckpointsAllocateNoLargeArrayButTheirBytes() throws IOException {
        try (CtrModel model = CtrModel.create(small().hashBuckets(131_072).embeddingDim(16).build())) {
            model.train(samples(new Random(4), 64));
            model.checkpoint(); // sizes the buffers
            byte[][] handedOut = new byte[2][];
            List<Long> large = largeAllocations(() -> handedOut[0] = model.snapshot());
            assertThat(large).as("arrays over 1 MB beside the snapshot's bytes").allMatch(size -> isArrayOf(size, handedOut[0]));
            large = largeAllocations(() -> handedOut[1] = model.checkpoint());
            assertThat(large).as("arrays over 1 MB beside the checkpoint's bytes").allMatch(size -> isArrayOf(size, handedOut[1]));
        }
    }

    private static boolean isArrayOf(long allocationSize, byte[] bytes) {
        return allocationSize >= bytes.length && allocationSize <= bytes.length + 64;
    }

    /** Sizes of this thread's allocations over 1 MB while {@code action} ran. */
    private static List<Long> largeAllocations(Runnable action) throws IOException {
        long thread = Thread.currentThread().getId();
        java.nio.file.Path file = java.nio.file.Files.createTempFile("allocations", ".jfr");
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("jdk.ObjectAllocationOutsideTLAB");
            recording.start();
            action.run();
            recording.stop();
            recording.dump(file);
            List<Long> sizes = new ArrayList<>();
            for (jdk.jfr.consumer.RecordedEvent e : jdk.jfr.consumer.RecordingFile.readAllEvents(file)) {
                if (e.getThread() != null && e.getThread().getJavaThreadId() == thread && e.getLong("allocationSize") > (1 << 20)) {
                    sizes.add(e.getLong("allocationSize"));
                }
            }
            return sizes;
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    /** Runs {@code action} on a new thread and rethrows what it threw. */
    static void onNewThread(Runnable action) {
        onNewThread("model-test", action);
    }

    /** Runs {@code action} on a new thread named {@code name} and rethrows what it threw. */
    static void onNewThread(String name, Runnable action) {
        Throwable[] thrown = new Throwable[1];
        Thread thread = new Thread(() -> {
            try {
                action.run();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        }, name);
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (thrown[0] != null) {
            throw new AssertionError("failed on its own thread: " + thrown[0], thrown[0]);
        }
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = CtrModelTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void deviceChoice() {
        assertThat(DeviceChoice.parse("AUTO")).isEqualTo(DeviceChoice.AUTO);
        assertThat(DeviceChoice.CPU.resolve().isGpu()).isFalse();
        assertThatThrownBy(() -> DeviceChoice.parse("tpu")).hasMessageContaining("use auto, cpu or gpu");
        if (ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount() == 0) {
            assertThat(DeviceChoice.AUTO.resolve().isGpu()).isFalse();
            assertThatThrownBy(DeviceChoice.GPU::resolve).hasMessageContaining("--device auto|cpu");
        } else {
            assertThat(DeviceChoice.AUTO.resolve().isGpu()).isTrue();
        }
        assertThatThrownBy(() -> small().device("tpu").build()).hasMessageContaining("tpu");
        assertThatThrownBy(() -> small().targetField(7).build()).hasMessageContaining("targetField");
    }

    @Test
    void ablationsBuildAndTrain() {
        Random random = new Random(4);
        List<Sample> batch = samples(random, 64);
        for (ModelConfig config : List.of(small().tem4ctr(false).build(), small().am2(false).bcm(false).build(),
                small().crossLayers(2).build(), small().hiddenLayers().tem4ctr(false).am2(false).build(),
                small().fm(true).build())) {
            try (CtrModel model = CtrModel.create(config)) {
                assertThat(model.train(batch)).as(config.toString()).isFinite();
                assertThat(model.predict(batch)).hasSize(64);
            }
        }
    }

    /** Clicks depend only on whether the user's group matches the item's group: a pure pairwise interaction. */
    private static List<Sample> interactionWorld(Random random, int count) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int user = random.nextInt(40);
            int item = random.nextInt(20);
            double logit = user % 2 == item % 2 ? 1.5 : -1.5;
            int label = random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
            Features f = new Features(new long[] {FeatureHash.of("user", "u" + user), FeatureHash.item("i" + item),
                    FeatureHash.of("slot", "s")}, new float[] {0f, 0f}, 1);
            out.add(new Sample(f, UserHistory.EMPTY, label, 1, 1, new long[] {FeatureHash.of("slot", "s")}, 1f, false));
        }
        return out;
    }

    @Test
    void fmTermsLearnAnInteractionALinearHeadCannot() {
        double[] auc = new double[2];
        for (int fm = 0; fm < 2; fm++) {
            Random random = new Random(5);
            // no hidden layer: without FM the logit is linear in the concatenated embeddings
            ModelConfig config = small().hiddenLayers().tem4ctr(false).am2(false).bcm(false).fm(fm == 1).build();
            try (CtrModel model = CtrModel.create(config)) {
                List<Sample> train = interactionWorld(random, 6000);
                for (int epoch = 0; epoch < 3; epoch++) {
                    for (int i = 0; i < train.size(); i += 64) {
                        model.train(train.subList(i, Math.min(train.size(), i + 64)));
                    }
                }
                List<Sample> test = interactionWorld(random, 2000);
                float[] p = model.predict(test);
                double[] scores = new double[p.length];
                int[] labels = new int[p.length];
                for (int i = 0; i < p.length; i++) {
                    scores[i] = p[i];
                    labels[i] = test.get(i).label();
                }
                auc[fm] = Auc.of(scores, labels);
            }
        }
        assertThat(auc[0]).as("linear head, no FM").isLessThan(0.6);
        assertThat(auc[1]).as("with FM").isGreaterThan(0.75);
        assertThat(small().fm(true).build().shapeKey()).isNotEqualTo(small().fm(false).build().shapeKey());
    }

    /**
     * Replay-exact calls encode every history at 16 clicks or more: a long history alone is encoded as a plain call
     * encodes it, and a short one gets the same bits alone and beside a user of 20 clicks.
     */
    @Test
    void batchInvariantCallsEncodeHistoriesAtSixteenClicksOrMore() {
        try (CtrModel model = CtrModel.create(small().historyLength(30).build())) {
            Random random = new Random(3);
            List<Features> candidates = samples(random, 6).stream().map(Sample::features).toList();
            ScoringRequest tenClicks = new ScoringRequest(history(random, 10), candidates);
            ScoringRequest threeClicks = new ScoringRequest(history(random, 3), candidates.subList(0, 4));
            ScoringRequest twentyClicks = new ScoringRequest(history(random, 20), candidates.subList(2, 5));

            assertThat(model.scoreBatchInvariant(List.of(tenClicks))[0]).containsExactly(model.score(List.of(tenClicks))[0]);
            float[] alone = model.scoreBatchInvariant(List.of(threeClicks))[0];
            assertThat(alone).hasSize(4);
            assertThat(model.scoreBatchInvariant(List.of(twentyClicks, threeClicks))[1]).containsExactly(alone);
            assertThat(model.scoreBatchInvariant(List.of(new ScoringRequest(tenClicks.history(), List.of())))[0]).isEmpty();
        }
    }

    private static UserHistory history(Random random, int clicks) {
        long[] keys = new long[clicks];
        long[][] aligned = new long[clicks][];
        for (int c = 0; c < clicks; c++) {
            keys[c] = 1 + random.nextInt(200);
            aligned[c] = new long[] {1 + random.nextInt(200), 1 + random.nextInt(200)};
        }
        return new UserHistory(keys, aligned);
    }
}
