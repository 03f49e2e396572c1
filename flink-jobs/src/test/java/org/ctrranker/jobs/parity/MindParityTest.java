package org.ctrranker.jobs.parity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.models.StepFingerprint;
import org.junit.jupiter.api.Test;

class MindParityTest {

    @Test
    void theFirstDivergenceIsFoundInTheTrainersOrderWithItsBatchAndTheLastVersionCutBeforeIt() {
        Map<String, Float> protocol = new LinkedHashMap<>();
        Map<String, Float> job = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            protocol.put("s" + i, i / 100f);
            job.put("s" + i, i >= 9 ? i / 100f + 0.01f : i / 100f);
        }
        job.put("s3", protocol.get("s3") + 5e-7f); // within a float's rounding of the same inputs: not a parting
        List<MindParity.VersionCut> cuts = List.of(new MindParity.VersionCut(1, 4), new MindParity.VersionCut(2, 8),
                new MindParity.VersionCut(3, 12));

        Map<String, Object> divergent = MindParity.firstDivergence(protocol, job, 4, cuts).orElseThrow();

        assertThat(divergent).containsEntry("index", 9L).containsEntry("impression_id", "s9").containsEntry("batch", 2L)
                .containsEntry("after_version", 2L).containsEntry("trained_since_that_cut", 1L);
        assertThat(MindParity.firstDivergence(protocol, protocol, 4, cuts)).isEmpty();
        assertThat(MindParity.firstDivergence(protocol, job, 4, List.of())).get()
                .satisfies(d -> assertThat(d).doesNotContainKey("after_version"));
    }

    @Test
    void theFirstDivergentStepSaysWhichOfItsPartsParted() {
        List<StepFingerprint> job = List.of(new StepFingerprint(0, 4, 1, 2, 3, 4, 5), new StepFingerprint(1, 4, 4, 6, 7, 8, 9),
                new StepFingerprint(2, 4, 8, 10, 11, 12, 13));
        List<StepFingerprint> replay = List.of(job.get(0), new StepFingerprint(1, 4, 4, 6, 7, 80, 9),
                new StepFingerprint(2, 4, 80, 10, 110, 120, 130));

        assertThat(MindParity.firstDivergentStep(job, replay).orElseThrow()).containsEntry("step", 1)
                .containsEntry("rows", 4).containsEntry("state_before", "same").containsEntry("inputs", "same")
                .containsEntry("logits", "same").containsEntry("state_after", "different")
                .containsEntry("optimizer_after", "same");
        assertThat(MindParity.firstDivergentStep(job, job)).isEmpty();
        assertThat(MindParity.firstDivergentStep(job, job.subList(0, 2)).orElseThrow()).containsEntry("step", 2)
                .containsEntry("only_one_took_it", "job");
    }
}
