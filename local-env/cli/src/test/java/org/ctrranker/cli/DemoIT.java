package org.ctrranker.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/ctr demo} end to end, in this JVM: its own stack, the job in the mini cluster, the feed,
 * the live view read back from Redis, and a clean exit that leaves no process and no temp dir.
 */
class DemoIT {

    private static final Pattern MODEL_LINE =
            Pattern.compile("model: v(\\d+) live .*online AUC (0\\.\\d+) vs Bayes-optimal (0\\.\\d+) on the same labels");
    private static final Pattern RANKING_LINE = Pattern.compile("rank (\\S+) \\(v(\\d+), scored .* ads\\): (.*)");
    private static final Pattern RANKED_AD = Pattern.compile("\\d+\\. (\\S+) pCTR (0\\.\\d+) eCPM ([\\d,]+)");

    @Test
    void syntheticDemoShowsOnlineAucAgainstBayesALiveVersionAndRankingsThenCleansUp() throws Exception {
        CliRun demo = CliRun.of("demo", "--seconds", "60", "--every", "3s", "--window", "10s", "--publish-every", "500");
        assertThat(demo.exitCode()).as(demo.stderr()).isZero();

        List<Matcher> models = matches(demo.stdout(), MODEL_LINE);
        assertThat(models).as(demo.stdout()).isNotEmpty();
        Matcher lastModel = models.get(models.size() - 1);
        assertThat(Long.parseLong(lastModel.group(1))).as("live model version").isPositive();
        assertThat(Double.parseDouble(lastModel.group(3))).as("Bayes-optimal AUC").isBetween(0.6, 0.99);

        List<Matcher> rankings = matches(demo.stdout(), RANKING_LINE);
        assertThat(rankings).as(demo.stdout()).isNotEmpty();
        for (Matcher ranking : rankings) {
            List<Long> ecpms = new ArrayList<>();
            Matcher ad = RANKED_AD.matcher(ranking.group(3));
            while (ad.find()) {
                ecpms.add(Long.parseLong(ad.group(3).replace(",", "")));
            }
            assertThat(ecpms).as("ranking of %s", ranking.group(1)).isNotEmpty()
                    .isSortedAccordingTo((a, b) -> Long.compare(b, a));
        }

        JsonNode summary = summary(demo.stdout());
        assertThat(summary.get("model_version").asLong()).isPositive();
        assertThat(summary.get("scored_auctions").asLong()).isPositive();
        assertThat(summary.get("labelled").asLong()).isPositive();
        assertThat(summary.get("online_auc").isNumber()).isTrue();
        assertLeftNothing(demo.stdout());
    }

    @Test
    void replayOfMindShowsRankingsOfItsAuctionsThenCleansUp() throws Exception {
        String root = System.getProperty("ctr.root", System.getProperty("user.dir"));
        Path behaviors = Path.of(root).resolve("../shared/data/mind-small/behaviors.tsv").normalize();
        assumeTrue(Files.isReadable(behaviors), "shared data missing: " + behaviors);

        CliRun demo = CliRun.of("demo", "--replay", "mind", behaviors.toString(), "--seconds", "45", "--every", "3s");
        assertThat(demo.exitCode()).as(demo.stderr()).isZero();
        assertThat(matches(demo.stdout(), RANKING_LINE)).as(demo.stdout())
                .anySatisfy(ranking -> assertThat(ranking.group(1)).startsWith("mind-"));
        JsonNode summary = summary(demo.stdout());
        assertThat(summary.get("scored_auctions").asLong()).isPositive();
        assertThat(summary.get("bayes_optimal_auc").isNull()).as("no ground truth for real logs").isTrue();
        assertLeftNothing(demo.stdout());
    }

    @Test
    void badFlagsSayWhatToDoInOneLine() {
        CliRun noFiles = CliRun.of("demo", "--replay", "mind");
        assertThat(noFiles.exitCode()).isEqualTo(2);
        assertThat(noFiles.stderr().strip()).isEqualTo(
                "ctr demo: --replay mind needs log files, e.g. ../shared/data/mind-small/behaviors.tsv");
        CliRun badRate = CliRun.of("demo", "--rate", "0");
        assertThat(badRate.exitCode()).isEqualTo(2);
        assertThat(badRate.stderr().strip()).startsWith("ctr demo: --rate must be between");
    }

    /** The stack's processes are gone and the demo's temp dir is removed. */
    private static void assertLeftNothing(String stdout) {
        String pidsLine = stdout.lines().filter(l -> l.startsWith("stack: ")).findFirst().orElseThrow();
        List<Long> pids = Arrays.stream(pidsLine.substring(pidsLine.indexOf("PIDS=") + 5).split(","))
                .map(Long::parseLong).toList();
        assertThat(pids).hasSize(2).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)
                .orElse(false)).as("pid %d alive", pid).isFalse());
        String stopping = stdout.lines().filter(l -> l.startsWith("demo: stopping")).findFirst().orElseThrow();
        Path work = Path.of(stopping.substring(stopping.indexOf(" removing ") + " removing ".length()).strip());
        assertThat(work).doesNotExist();
        assertThat(stdout).contains("demo: stopped; nothing left running");
    }

    private static JsonNode summary(String stdout) throws Exception {
        String json = stdout.lines().filter(l -> l.startsWith("{\"seconds\"")).reduce((a, b) -> b).orElseThrow();
        return new ObjectMapper().readTree(json);
    }

    private static List<Matcher> matches(String text, Pattern pattern) {
        List<Matcher> found = new ArrayList<>();
        text.lines().forEach(line -> {
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                found.add(m);
            }
        });
        return found;
    }
}
