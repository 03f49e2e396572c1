package org.ctrranker.jobs.parity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.jobs.testing.SharedData;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.models.eval.DataSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slice of MIND (the first rows of behaviors.tsv, every day of it) through the real job and through evaluate's
 * online loop in the job's protocol: the trainer's progressive AUC on evaluate's test split equals evaluate's.
 * Both run the same model from the same seed on the same samples in the same mini-batches (MindParity fails when
 * the job's trainer scored other samples than evaluate), so they agree to float noise, or, where the two
 * trajectories part (a full run once did, see README), to the noise of training order: the 0.01.
 */
@ExtendWith(LocalStackExtension.class)
class MindParityIT {

    private static final int ROWS = 300;

    @Test
    void theJobsTrainerAndEvaluateAgreeOnTheSameSamples(LocalStack stack, @TempDir Path dir) throws Exception {
        Path behaviors = SharedData.file("mind-small/behaviors.tsv");
        List<String> lines = Files.readAllLines(behaviors, StandardCharsets.UTF_8);
        Path slice = dir.resolve("behaviors.tsv");
        Files.write(slice, lines.subList(0, ROWS), StandardCharsets.UTF_8);
        Files.createSymbolicLink(dir.resolve("news.tsv"), behaviors.resolveSibling("news.tsv").toAbsolutePath());

        String p = "parity-it";
        stack.createTopics(List.of(p + "-auctions", p + "-impressions", p + "-clicks", p + "-samples", p + "-scores",
                p + "-dead-letters"), 4);
        Map<String, String> settings = new HashMap<>();
        settings.put("ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap());
        settings.put("ctr.redis.url", stack.endpoints().redisUrl());
        settings.put("ctr.redis.key-prefix", p);
        settings.put("ctr.kafka.group-id", p);
        settings.put("ctr.topic.auctions", p + "-auctions");
        settings.put("ctr.topic.impressions", p + "-impressions");
        settings.put("ctr.topic.clicks", p + "-clicks");
        settings.put("ctr.topic.training-samples", p + "-samples");
        settings.put("ctr.topic.scores", p + "-scores");
        settings.put("ctr.topic.dead-letters", p + "-dead-letters");
        // A small model keeps the test short; parity does not depend on the size.
        settings.put("ctr.model.hash-buckets", "8192");
        settings.put("ctr.model.embedding-dim", "8");
        settings.put("ctr.model.hidden-layers", "32,16");
        settings.put("ctr.training.batch-size", "128");

        Map<String, Object> result = MindParity.run(List.of(slice), DataSets.startOf("2019-11-13"), settings, 2, false,
                System.out);
        System.out.println("parity: " + result);

        assertThat((Integer) result.get("slice_samples")).as("test-split impressions of the slice").isGreaterThan(1_000);
        long backfill = (Long) result.get("samples_backfill");
        assertThat(backfill).as("replayed history samples committed, marked backfill").isGreaterThan(1_000);
        assertThat(result.get("job_samples_backfill")).as("the trainer skipped every one").isEqualTo(backfill);
        assertThat((Long) result.get("job_scorer_backfill_auctions")).as("and the scorer their auctions")
                .isPositive().isLessThanOrEqualTo(backfill);
        assertThat((Integer) result.get("slice_positives")).isGreaterThan(20);
        double job = (Double) result.get("job_auc");
        double evaluate = (Double) result.get("evaluate_job_protocol_auc");
        assertThat(job).isBetween(0.3, 0.9);
        assertThat(Math.abs(job - evaluate)).as("job %s vs evaluate %s", job, evaluate).isLessThanOrEqualTo(0.01);
    }
}
