package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QualityGateTest {

    private final QualityGate gate = new QualityGate(5, 1000, 0.01, 2);

    @Test
    void holdsOutAboutTheConfiguredShareTheSameInEveryRun() {
        int held = 0;
        for (int i = 0; i < 20_000; i++) {
            held += gate.isHeldOut("imp-" + i) ? 1 : 0;
            assertThat(gate.isHeldOut("imp-" + i)).isEqualTo(new QualityGate(5, 1, 0, 0).isHeldOut("imp-" + i));
        }
        assertThat(held).isBetween(850, 1150);
        assertThat(new QualityGate(0, 1, 0, 0).isHeldOut("imp-1")).isFalse();
    }

    @Test
    void passesWithinTheMarginAndRejectsBeyondIt() {
        int[] labels = {1, 1, 0, 0, 0};
        float[] live = {0.9f, 0.8f, 0.1f, 0.2f, 0.3f}; // AUC 1
        QualityGate.Decision same = gate.decide(live, live, labels);
        assertThat(same.live()).isTrue();
        assertThat(same.reason()).startsWith("passed: held-out AUC 1.00000 >= live 1.00000");
        float[] worse = {0.9f, 0.25f, 0.1f, 0.2f, 0.3f}; // one of six pairs misordered: AUC 5/6
        QualityGate.Decision rejected = gate.decide(worse, live, labels);
        assertThat(rejected.live()).isFalse();
        assertThat(rejected.candidateAuc()).isEqualTo(5 / 6.0);
        assertThat(rejected.liveAuc()).isEqualTo(1.0);
        assertThat(rejected.reason()).startsWith("rejected: held-out AUC 0.83333 < live 1.00000");
        assertThat(new QualityGate(5, 1000, 0.2, 2).decide(worse, live, labels).live()).isTrue();
    }

    @Test
    void passesWithAReasonWhenTheWindowHoldsTooFewPositivesOrNegatives() {
        QualityGate.Decision fewPositives = gate.decide(new float[] {0.1f, 0.9f, 0.5f}, new float[] {0.9f, 0.1f, 0.5f},
                new int[] {1, 0, 0});
        assertThat(fewPositives.live()).isTrue();
        assertThat(fewPositives.positives()).isEqualTo(1);
        assertThat(fewPositives.reason()).contains("too little evidence (1 positives, 2 negatives");
        QualityGate.Decision empty = gate.decide(new float[0], new float[0], new int[0]);
        assertThat(empty.live()).isTrue();
        assertThat(empty.candidateAuc()).isNaN();
    }
}
