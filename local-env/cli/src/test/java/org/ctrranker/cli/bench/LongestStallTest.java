package org.ctrranker.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LongestStallTest {

    @Test
    void theLongestTimeAnAuctionWaitedWithNoScoringNotALullInTheInput() {
        Map<String, Long> sent = Map.of("a", 1_000L, "b", 1_010L, "c", 1_020L, "d", 3_000L, "unscored", 3_100L);
        Map<String, Long> scored = Map.of("d", 3_005L, "b", 1_015L, "a", 1_005L, "c", 1_500L);
        // c waited from 1,020 to 1,500 with nothing scored; nothing was sent between 1,500 and 3,000
        assertThat(E2eBenchmarkCommand.longestStallMs(sent, scored)).isEqualTo(480L);
    }

    @Test
    void auctionsScoredOutOfSendOrderCountFromTheEarliestStillWaiting() {
        // b was sent first but scored last: it waited from 1,000 through a's scoring at 1,100 to 1,300
        Map<String, Long> sent = Map.of("b", 1_000L, "a", 1_050L);
        Map<String, Long> scored = Map.of("a", 1_100L, "b", 1_300L);
        assertThat(E2eBenchmarkCommand.longestStallMs(sent, scored)).isEqualTo(200L);
    }

    @Test
    void noStallBeforeTwoScorings() {
        assertThat(E2eBenchmarkCommand.longestStallMs(Map.of(), Map.of())).isNull();
        assertThat(E2eBenchmarkCommand.longestStallMs(Map.of("a", 1L), Map.of("a", 5L))).isNull();
    }
}
