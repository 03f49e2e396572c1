package org.ctrranker.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GcPausesTest {

    @Test
    void countsTheSlowestAuctionsInFlightAcrossAPause() {
        List<GcPauses.Pause> pauses = List.of(new GcPauses.Pause(1_000, 50, "G1 Young Generation"),
                new GcPauses.Pause(5_000, 10, "G1 Young Generation"));
        List<long[]> inFlight = List.of(
                new long[] {900, 1_100},    // slow, across the first pause
                new long[] {1_060, 1_200},  // slow, sent after it ended
                new long[] {4_950, 5_005},  // fast, across the second: not in the tail
                new long[] {4_990, 5_200}); // slow, across the second
        Map<String, Object> summary = GcPauses.summary(pauses, inFlight, 100);
        assertThat(summary).containsEntry("pauses", 2).containsEntry("total_ms", 60L).containsEntry("max_ms", 50L)
                .containsEntry("over_20_ms", 1L).containsEntry("tail_auctions", 3L)
                .containsEntry("tail_auctions_across_a_pause", 2L);
    }

    @Test
    void theConcurrentCollectorsCyclesAreNotPausesButTheirPausesAre() {
        assertThat(GcPauses.countsPauses("ZGC Cycles")).isFalse();
        assertThat(GcPauses.countsPauses("Shenandoah Cycles")).isFalse();
        assertThat(GcPauses.countsPauses("ZGC Pauses")).isTrue();
        assertThat(GcPauses.countsPauses("Shenandoah Pauses")).isTrue();
        assertThat(GcPauses.countsPauses("G1 Young Generation")).isTrue();
    }

    @Test
    void recordsThisJvmsCollections() throws InterruptedException {
        try (GcPauses recorder = GcPauses.record()) {
            long before = System.currentTimeMillis();
            System.gc();
            long deadline = System.currentTimeMillis() + 5_000;
            while (recorder.pauses().isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20); // notifications arrive on a thread of their own
            }
            assertThat(recorder.pauses()).isNotEmpty();
            GcPauses.Pause pause = recorder.pauses().get(0);
            assertThat(pause.startMs()).isBetween(before - 1_000, System.currentTimeMillis());
            assertThat(pause.durationMs()).isNotNegative();
        }
    }
}
