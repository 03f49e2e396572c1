package org.ctrranker.models.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ctrranker.models.FeatureHash;
import org.ctrranker.models.ModelConfig;
import org.ctrranker.models.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluationSmokeTest {

    /** Items 0..9; even items are clicked far more often. */
    private static List<LoggedAuction> log(int requests) {
        Random random = new Random(3);
        List<LoggedAuction> out = new ArrayList<>();
        for (int r = 0; r < requests; r++) {
            List<LoggedAuction.LoggedItem> items = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int item = random.nextInt(10);
                int label = random.nextDouble() < (item % 2 == 0 ? 0.4 : 0.05) ? 1 : 0;
                items.add(new LoggedAuction.LoggedItem("n" + item, new long[] {FeatureHash.of("cat", "c" + item % 3)},
                        "c" + item % 3, i + 1, label, 1.0, 0.5 + item, new long[] {FeatureHash.of("slot", "s")}, Double.NaN));
            }
            out.add(new LoggedAuction("u" + random.nextInt(20), r * 60_000L, new long[] {FeatureHash.of("hour", "1")}, items,
                    r >= requests * 0.7, List.of("n1")));
        }
        return out;
    }

    @Test
    void featuresAreCausal() {
        OnlineFeaturizer featurizer = new OnlineFeaturizer(4, 4);
        LoggedAuction.LoggedItem clicked = new LoggedAuction.LoggedItem("x", new long[0], "c", 1, 1, Double.NaN,
                Double.NaN, new long[0], Double.NaN);
        List<Sample> first = featurizer.next(new LoggedAuction("u", 0, new long[0], List.of(clicked), false, List.of()));
        List<Sample> second = featurizer.next(new LoggedAuction("u", 1000, new long[0], List.of(clicked), false, List.of()));
        // the first sight of an item knows nothing of its own click; the second one does
        assertThat(first.get(0).features().dense()[1]).isEqualTo(0f);
        assertThat(first.get(0).history().size()).isZero();
        assertThat(second.get(0).features().dense()[0]).isGreaterThan(0f);
        assertThat(second.get(0).history().size()).isEqualTo(1);
    }

    @Test
    void theUsersEarlierClicksAreCountedOnlyInLogsThatHaveThem() {
        LoggedAuction.LoggedItem shown = item("x", 0);
        List<LoggedAuction> withPrior = List.of(
                new LoggedAuction("reader", 0, new long[0], List.of(shown), false, List.of("a", "b", "c")),
                new LoggedAuction("newcomer", 1, new long[0], List.of(shown), true, List.of()));
        EvalData data = OnlineFeaturizer.build("prior", withPrior, 4, 4);
        assertThat(data.denseFeatures()).isEqualTo(OnlineFeaturizer.DENSE);
        float[] reader = data.groups().get(0).get(0).features().dense();
        float[] newcomer = data.groups().get(1).get(0).features().dense();
        assertThat(reader).hasSize(OnlineFeaturizer.DENSE);
        assertThat(reader[OnlineFeaturizer.DENSE - 1]).isCloseTo((float) Math.log1p(3) / 5f, within(1e-6f));
        assertThat(newcomer[OnlineFeaturizer.DENSE - 1]).isZero();

        List<LoggedAuction> withoutPrior = List.of(
                new LoggedAuction("reader", 0, new long[0], List.of(shown), false, List.of()),
                new LoggedAuction("newcomer", 1, new long[0], List.of(shown), true, List.of()));
        EvalData plain = OnlineFeaturizer.build("no prior", withoutPrior, 4, 4);
        assertThat(plain.denseFeatures()).isEqualTo(OnlineFeaturizer.DENSE - 1);
        assertThat(plain.groups().get(0).get(0).features().dense()).hasSize(OnlineFeaturizer.DENSE - 1)
                .containsExactly(Arrays.copyOf(reader, OnlineFeaturizer.DENSE - 1));
    }

    @Test
    void fatigueCountsTheUsersExposuresOfTheHourUpToTheBound() {
        OnlineFeaturizer featurizer = new OnlineFeaturizer(4, 4);
        // x's exposure as the oldest the bound keeps, and as one older than that
        float[] kept = fatigueAfter(featurizer, "u", OnlineFeaturizer.RECENT_EXPOSURES - 1);
        float[] dropped = fatigueAfter(featurizer, "v", OnlineFeaturizer.RECENT_EXPOSURES);
        assertThat(kept[2]).isEqualTo(1 / 4f);
        assertThat(kept[3]).isZero();
        assertThat(dropped[2]).isZero();
    }

    /** The dense features of x shown to {@code user} after one unclicked x and then {@code others} other items. */
    private static float[] fatigueAfter(OnlineFeaturizer featurizer, String user, int others) {
        featurizer.next(new LoggedAuction(user, 0, new long[0], List.of(item("x", 0)), false, List.of()));
        for (int r = 1; r <= others; r++) {
            LoggedAuction.LoggedItem other = new LoggedAuction.LoggedItem("y" + r, new long[0], "other", 0, 0, Double.NaN,
                    Double.NaN, new long[0], Double.NaN);
            featurizer.next(new LoggedAuction(user, r * 1000L, new long[0], List.of(other), false, List.of()));
        }
        long withinTheHour = (others + 1) * 1000L;
        return featurizer.next(new LoggedAuction(user, withinTheHour, new long[0], List.of(item("x", 0)), false, List.of()))
                .get(0).features().dense();
    }

    private static LoggedAuction.LoggedItem item(String id, int label) {
        return new LoggedAuction.LoggedItem(id, new long[0], "c", 0, label, Double.NaN, Double.NaN, new long[0], Double.NaN);
    }

    @Test
    void requestSizeAndPopularityShareAreKnownAtRequestTime() {
        OnlineFeaturizer featurizer = new OnlineFeaturizer(4, 4);
        for (int r = 0; r < 20; r++) {
            featurizer.next(new LoggedAuction("u" + r, r * 1000L, new long[0], List.of(item("hot", 1), item("cold", 0)), false,
                    List.of()));
        }
        List<LoggedAuction.LoggedItem> shown = List.of(item("hot", 0), item("cold", 1), item("new", 1));
        List<Sample> samples = featurizer.next(new LoggedAuction("v", 30_000, new long[0], shown, false, List.of()));
        float[] hot = samples.get(0).features().dense();
        float[] cold = samples.get(1).features().dense();
        float[] fresh = samples.get(2).features().dense();
        // one request size for all its items, larger for a larger request
        assertThat(hot[8]).isEqualTo(cold[8]).isEqualTo(fresh[8]).isGreaterThan(0f);
        List<Sample> two = featurizer.next(new LoggedAuction("w", 31_000, new long[0], List.of(item("a", 0), item("b", 0)),
                false, List.of()));
        assertThat(two.get(0).features().dense()[8]).isLessThan(hot[8]);
        // the share ranks the request's items by their CTR so far, never by their own labels here
        assertThat(hot[9]).isGreaterThan(fresh[9]);
        assertThat(fresh[9]).isGreaterThan(cold[9]);
        assertThat(hot[9]).isGreaterThan(0f);
        assertThat(cold[9]).isLessThan(0f);
    }

    @Test
    void aTestSplitWithoutClicksStillGetsItsReport(@TempDir Path folder) throws Exception {
        List<LoggedAuction> log = new ArrayList<>();
        for (LoggedAuction a : log(100)) {
            List<LoggedAuction.LoggedItem> items = a.items();
            if (a.test()) { // iPinYou 2259's test log has no click at all
                items = items.stream().map(i -> new LoggedAuction.LoggedItem(i.itemId(), i.itemKeys(), i.category(), i.position(),
                        0, i.bid(), i.marketPrice(), i.scenario(), i.trueCtr())).toList();
            }
            log.add(new LoggedAuction(a.userId(), a.timeMs(), a.contextKeys(), items, a.test(), a.priorClicks()));
        }
        EvalData data = OnlineFeaturizer.build("no clicks", log, 4, 4);
        ModelConfig config = ModelConfig.builder().sparseFields(data.sparseFields()).denseFeatures(data.denseFeatures())
                .scenarioFields(data.scenarioFields()).embeddingDim(4).hashBuckets(1024).historyLength(4).slotsPerClick(4)
                .hiddenLayers(8).device("cpu").build();
        Evaluation evaluation = new Evaluation(data, config, List.of("full", "lr"), 1, 32, 1, false, Double.NaN,
                new PrintStream(PrintStream.nullOutputStream()));
        String json = evaluation.report(evaluation.run(), folder, "test", Map.of());
        assertThat(json).contains("\"full\":{\"auc\":null").doesNotContain("full_online_minus");
        assertThat(Files.readString(folder.resolve("report.md"))).contains("No margins: the test split has no clicks");
    }

    @Test
    void runsEveryModelAndWritesTheReport(@TempDir Path folder) throws Exception {
        EvalData data = OnlineFeaturizer.build("smoke", log(300), 4, 4);
        ModelConfig config = ModelConfig.builder().sparseFields(data.sparseFields()).denseFeatures(data.denseFeatures())
                .scenarioFields(data.scenarioFields()).embeddingDim(4).hashBuckets(1024).historyLength(4).slotsPerClick(4)
                .hiddenLayers(8).learningRate(0.02f).device("cpu").build();
        Evaluation evaluation = new Evaluation(data, config, Evaluation.MODELS, 1, 32, 1, true, Double.NaN,
                new PrintStream(PrintStream.nullOutputStream()));
        Map<String, List<Evaluator.Result>> results = evaluation.run();
        String json = evaluation.report(results, folder, "test", Map.of("seconds", 1));
        for (String model : Evaluation.MODELS) {
            assertThat(json).contains("\"" + model + "\":{\"auc\":");
        }
        // even items are clicked 8x more: popularity learns it within the stream
        assertThat(results.get("popularity/online").get(0).auc()).isGreaterThan(0.7);
        assertThat(Files.readString(folder.resolve("report.md"))).contains("| full |", "calibration.png", "| full online minus |");
        // every other result against the full model online, with its interval around the plain difference
        Matcher lr = Pattern.compile("\"lr/online\":\\{\"d\":(-?[0-9.]+),\"ci95\":\\[(-?[0-9.]+),(-?[0-9.]+)]}").matcher(json);
        assertThat(lr.find()).as(json).isTrue();
        double d = Double.parseDouble(lr.group(1));
        assertThat(d).isCloseTo(results.get("full/online").get(0).auc() - results.get("lr/online").get(0).auc(), within(1e-4));
        assertThat(Double.parseDouble(lr.group(2))).isLessThanOrEqualTo(d);
        assertThat(Double.parseDouble(lr.group(3))).isGreaterThanOrEqualTo(d);
        assertThat(json).contains("\"popularity/offline\":{\"d\":", "\"full/offline\":{\"d\":");
        for (String png : List.of("auc-over-stream.png", "logloss-over-stream.png", "calibration.png")) {
            assertThat(Files.size(folder.resolve(png))).as(png).isGreaterThan(1000);
        }
    }
}
