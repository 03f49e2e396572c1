package org.ctrranker.jobs.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;

class SyntheticEventGeneratorTest {

    private static final GeneratorConfig FAULTY = GeneratorConfig.builder().seed(7).auctions(20_000)
            .lateClickRate(0.05).duplicateClickRate(0.1).orphanClickRate(0.05).outOfOrderRate(0.2)
            .malformedRate(0.01).unrenderedRate(0.05).build();

    @Test
    void sameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws Exception {
        GeneratorConfig small = GeneratorConfig.builder().seed(3).auctions(3_000).malformedRate(0.02).build();
        assertThat(digest(small)).isEqualTo(digest(small));
        GeneratorConfig other = GeneratorConfig.builder().seed(4).auctions(3_000).malformedRate(0.02).build();
        assertThat(digest(other)).isNotEqualTo(digest(small));
    }

    @Test
    void secondPriceOutcomeNeverChargesAboveTheWinnersBid() {
        List<GeneratedRecord> records = generate(FAULTY);
        long winners = 0;
        for (GeneratedRecord r : records) {
            if (r.topic() != EventTopic.AD_AUCTIONS || r.malformed()) {
                continue;
            }
            AdAuction auction = (AdAuction) r.value();
            Map<String, Long> bids = new HashMap<>();
            for (Candidate c : auction.getCandidates()) {
                bids.put(c.getAdId(), c.getBidMicros());
            }
            List<Long> sortedBids = bids.values().stream().sorted((a, b) -> Long.compare(b, a)).toList();
            for (AuctionWinner w : auction.getWinners()) {
                long bid = bids.get(w.getAdId());
                assertThat(w.getMarketPriceMicros()).isLessThanOrEqualTo(bid).isGreaterThanOrEqualTo(auction.getFloorPriceMicros());
                // the price to beat is the next bid down (or the floor), so the winner at position k holds the k-th bid
                assertThat(bid).isEqualTo(sortedBids.get(w.getPosition() - 1));
                long next = w.getPosition() < sortedBids.size() ? sortedBids.get(w.getPosition()) : 0;
                assertThat(w.getMarketPriceMicros()).isEqualTo(Math.min(bid, Math.max(next, auction.getFloorPriceMicros())));
                winners++;
            }
        }
        assertThat(winners).isGreaterThan(10_000);
    }

    @Test
    void everyClickRefersToAnImpressionExceptThePlantedOrphans() {
        List<GeneratedRecord> records = new ArrayList<>();
        GroundTruth truth = new SyntheticEventGenerator(FAULTY).run(records::add);
        Set<String> impressions = new HashSet<>();
        Map<String, Long> impressionTimes = new HashMap<>();
        for (GeneratedRecord r : records) {
            if (r.topic() == EventTopic.AD_IMPRESSIONS && !r.malformed()) {
                AdImpression impression = (AdImpression) r.value();
                impressions.add(impression.getImpressionId());
                impressionTimes.put(impression.getImpressionId(), impression.getImpressionTimeMs());
            }
        }
        long orphans = 0;
        long late = 0;
        long clickRecords = 0;
        Set<String> clickedWithinWindow = new HashSet<>();
        for (GeneratedRecord r : records) {
            if (r.topic() != EventTopic.AD_CLICKS || r.malformed()) {
                continue;
            }
            clickRecords++;
            AdClick click = (AdClick) r.value();
            if (!impressions.contains(click.getImpressionId())) {
                orphans++;
                assertThat(click.getImpressionId()).startsWith("orphan");
            } else if (click.getClickTimeMs() - impressionTimes.get(click.getImpressionId()) > truth.attributionWindowMs()) {
                late++;
            } else {
                clickedWithinWindow.add(click.getImpressionId());
            }
        }
        assertThat(orphans).isEqualTo(truth.orphanClicks()).isPositive();
        assertThat(late).isEqualTo(truth.lateClicks()).isPositive();
        assertThat((long) clickedWithinWindow.size()).isEqualTo(truth.clickedImpressions());
        assertThat(clickRecords).isEqualTo(truth.clicks() + truth.duplicateClicks() + truth.orphanClicks());
        assertThat(truth.duplicateClicks()).isPositive();
        assertThat((long) impressions.size()).isEqualTo(truth.impressions());
    }

    @Test
    void recordCountsMatchTheGroundTruthAndDeliveryIsOrdered() {
        List<GeneratedRecord> records = new ArrayList<>();
        GroundTruth truth = new SyntheticEventGenerator(FAULTY).run(records::add);
        Map<EventTopic, Long> counted = new HashMap<>();
        Map<EventTopic, Long> malformed = new HashMap<>();
        long previousDelivery = Long.MIN_VALUE;
        long deliveredBeforeAnEarlierEvent = 0;
        long maxEventTime = Long.MIN_VALUE;
        for (GeneratedRecord r : records) {
            counted.merge(r.topic(), 1L, Long::sum);
            if (r.malformed()) {
                malformed.merge(r.topic(), 1L, Long::sum);
            }
            assertThat(r.deliveryTimeMs()).isGreaterThanOrEqualTo(previousDelivery);
            previousDelivery = r.deliveryTimeMs();
            if (r.eventTimeMs() < maxEventTime) {
                deliveredBeforeAnEarlierEvent++;
            }
            maxEventTime = Math.max(maxEventTime, r.eventTimeMs());
        }
        assertThat(counted).isEqualTo(truth.records());
        assertThat(malformed).isEqualTo(truth.malformed());
        assertThat(counted.get(EventTopic.AD_AUCTIONS) - malformed.get(EventTopic.AD_AUCTIONS)).isEqualTo(truth.auctions());
        assertThat(truth.malformedRecords()).isPositive();
        assertThat(deliveredBeforeAnEarlierEvent).as("out-of-order deliveries").isPositive();
        assertThat(truth.auctionsWithoutImpression()).isPositive();
    }

    @Test
    void bayesOptimalAucComesFromTheTrueProbabilities() {
        GroundTruth truth = new SyntheticEventGenerator(GeneratorConfig.builder().seed(11).auctions(20_000).build())
                .run(r -> { });
        List<ImpressionTruth> truths = truth.impressionTruths();
        double wins = 0;
        long pairs = 0;
        List<ImpressionTruth> positives = truths.stream().filter(ImpressionTruth::clickedWithinWindow).toList();
        List<ImpressionTruth> negatives = truths.stream().filter(t -> !t.clickedWithinWindow()).toList();
        for (ImpressionTruth p : positives) {
            for (ImpressionTruth n : negatives) {
                pairs++;
                wins += p.trueCtr() > n.trueCtr() ? 1 : p.trueCtr() == n.trueCtr() ? 0.5 : 0;
            }
        }
        assertThat(truth.bayesOptimalAuc()).isCloseTo(wins / pairs, within(1e-9)).isBetween(0.65, 0.95);
        // labels are drawn from the true probabilities: calibrated in the mean
        double meanCtr = truths.stream().mapToDouble(ImpressionTruth::trueCtr).average().orElseThrow();
        double windowShare = 1 - GeneratorConfig.builder().build().lateClickRate();
        assertThat((double) truth.clickedImpressions() / truth.impressions()).isCloseTo(meanCtr * windowShare, within(0.004));
    }

    @Test
    void rejectsImpossibleSettingsWithAMessageNamingTheFix() {
        assertThatThrownBy(() -> GeneratorConfig.builder().lateClickRate(1.5).build())
                .hasMessage("late click rate must be a probability in [0, 1], got 1.5");
        assertThatThrownBy(() -> GeneratorConfig.builder().auctionsPerSecond(0).build())
                .hasMessageContaining("--rate");
    }

    private static List<GeneratedRecord> generate(GeneratorConfig config) {
        List<GeneratedRecord> records = new ArrayList<>();
        new SyntheticEventGenerator(config).run(records::add);
        return records;
    }

    private static String digest(GeneratorConfig config) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        var writerBytes = new RecordBytes();
        new SyntheticEventGenerator(config).run(r -> {
            sha.update(r.topic().name().getBytes());
            sha.update(r.key().getBytes());
            sha.update(writerBytes.valueOf(r));
            sha.update(Long.toString(r.deliveryTimeMs()).getBytes());
        });
        return java.util.HexFormat.of().formatHex(sha.digest());
    }
}
