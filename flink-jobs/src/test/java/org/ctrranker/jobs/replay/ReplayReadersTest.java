package org.ctrranker.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Pricing;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.testing.SharedData;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayReadersTest {

    @Test
    void ipinyouLogsBecomeWonAuctionsWithImpressionsAndMarketPriceAtMostTheBid() throws IOException {
        ReplayLog log = IpinyouLogReader.read(List.of(SharedData.file("ipinyou-2259/train.log.txt"),
                SharedData.file("ipinyou-2259/test.log.txt")));
        assertThat(log.count(EventTopic.AD_AUCTIONS)).isEqualTo(12_526);
        assertThat(log.count(EventTopic.AD_IMPRESSIONS)).isEqualTo(12_526);
        assertThat(log.count(EventTopic.AD_CLICKS)).isEqualTo(5);
        assertThat(log.summary()).containsEntry("market_price_above_bid", 0L);

        Set<String> auctionIds = new HashSet<>();
        long previous = Long.MIN_VALUE;
        for (GeneratedRecord r : log.records()) {
            assertThat(r.eventTimeMs()).isGreaterThanOrEqualTo(previous);
            previous = r.eventTimeMs();
            if (r.topic() == EventTopic.AD_AUCTIONS) {
                AdAuction auction = (AdAuction) r.value();
                AuctionWinner winner = auction.getWinners().get(0);
                assertThat(auction.getPricing()).isEqualTo(Pricing.CPM);
                assertThat(winner.getMarketPriceMicros()).isLessThanOrEqualTo(auction.getCandidates().get(0).getBidMicros());
                assertThat(auction.getCandidates().get(0).getBidMicros() % IpinyouLogReader.MICROS_PER_FEN).isZero();
                auctionIds.add(auction.getAuctionId());
            } else if (r.topic() == EventTopic.AD_IMPRESSIONS) {
                assertThat(auctionIds).contains(((AdImpression) r.value()).getAuctionId());
            }
        }
        assertThat(auctionIds).hasSize(12_526);
    }

    @Test
    void mindRowsBecomeFeedAuctionsWithHistoryClicksBeforeTheUsersFirstRow() throws IOException {
        ReplayLog log = MindBehaviorsReader.read(List.of(SharedData.file("mind-small/behaviors.tsv")));
        Map<String, Long> impressionTimes = new HashMap<>();
        Map<String, Long> firstRowTime = new HashMap<>();
        Map<String, Long> lastHistoryTime = new HashMap<>();
        long categorised = 0;
        for (GeneratedRecord r : log.records()) {
            switch (r.topic()) {
                case AD_AUCTIONS -> {
                    AdAuction a = (AdAuction) r.value();
                    assertThat(a.getBackfill()).as("only replayed history is backfill: %s", a.getAuctionId())
                            .isEqualTo(a.getAuctionId().startsWith("mind-h-"));
                    if (a.getAuctionId().startsWith("mind-h-")) {
                        lastHistoryTime.merge(a.getUserId(), a.getRequestTimeMs(), Math::max);
                    } else {
                        firstRowTime.merge(a.getUserId(), a.getRequestTimeMs(), Math::min);
                    }
                    categorised += a.getCandidates().stream().filter(c -> !c.getCategoryId().isEmpty()).count();
                }
                case AD_IMPRESSIONS -> {
                    AdImpression i = (AdImpression) r.value();
                    impressionTimes.put(i.getImpressionId(), i.getImpressionTimeMs());
                }
                default -> {
                    AdClick c = (AdClick) r.value();
                    assertThat(impressionTimes).as("click before its impression in replay order").containsKey(c.getImpressionId());
                    assertThat(c.getClickTimeMs()).isGreaterThan(impressionTimes.get(c.getImpressionId()));
                }
            }
        }
        assertThat(log.summary()).containsEntry("rows", 4_032L);
        assertThat(lastHistoryTime).isNotEmpty();
        lastHistoryTime.forEach((user, time) -> assertThat(time).isLessThan(firstRowTime.get(user)));
        assertThat(categorised).as("candidates with a news category").isPositive();
        long clicks = log.count(EventTopic.AD_CLICKS);
        assertThat(clicks).isEqualTo((Long) log.summary().get("clicks"));
        assertThat(log.count(EventTopic.AD_IMPRESSIONS)).isEqualTo((Long) log.summary().get("impressions"));
    }

    @Test
    void aFileOfTheWrongFormatFailsWithItsLineAndTheExpectedFormat(@TempDir Path dir) throws IOException {
        Path wrong = Files.writeString(dir.resolve("behaviors.tsv"), "just one column\n");
        assertThatThrownBy(() -> MindBehaviorsReader.read(List.of(wrong)))
                .hasMessageContaining("behaviors.tsv:1").hasMessageContaining("5 tab-separated columns");
        assertThatThrownBy(() -> IpinyouLogReader.read(List.of(wrong)))
                .hasMessageContaining(":1").hasMessageContaining("27");
    }
}
