package org.ctrranker.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LongestPauseTest {

    @Test
    void theLongestSilenceBetweenScoringsWhateverTheOrderTheyCameIn() {
        // auctions scored in bursts, listed out of time order (the report's map has no order)
        List<Long> scoredAt = List.of(1_000L, 1_040L, 6_500L, 1_020L, 6_480L, 7_000L);
        assertThat(E2eBenchmarkCommand.longestPauseMs(scoredAt)).isEqualTo(5_440L);
    }

    @Test
    void noPauseBeforeTwoScorings() {
        assertThat(E2eBenchmarkCommand.longestPauseMs(List.of())).isNull();
        assertThat(E2eBenchmarkCommand.longestPauseMs(List.of(5L))).isNull();
    }
}
