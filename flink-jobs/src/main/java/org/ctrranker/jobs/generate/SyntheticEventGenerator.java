package org.ctrranker.jobs.generate;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.jobs.generate.SyntheticWorld.Ad;
import org.ctrranker.jobs.generate.SyntheticWorld.Slot;
import org.ctrranker.jobs.generate.SyntheticWorld.User;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/**
 * A deterministic, realistic stream of auctions, impressions and clicks with planted faults.
 *
 * <p>Users come in sessions; every auction has several candidates with competing CPC bids and a
 * second-price outcome (the market price of the winner at position k is the bid at k+1 or the
 * floor, never above its own bid); winners become impressions; clicks are drawn from the hidden
 * true CTR of {@link SyntheticWorld}. Records are handed over in delivery order: delivery is event
 * time plus a transport delay, larger for the planted out-of-order records, so clicks can arrive
 * before their impressions. Three random streams split from the seed drive the world, the events
 * and the faults, so changing a fault rate leaves the world and the click draws alone.
 */
public final class SyntheticEventGenerator {

    private static final double SESSION_CONTINUE = 0.6;
    private static final int ACTIVE_SESSIONS = 64;

    private final GeneratorConfig config;
    private Consumer<ImpressionTruth> impressionListener = truth -> {};

    public SyntheticEventGenerator(GeneratorConfig config) {
        this.config = config;
    }

    /**
     * Also hands every impression's truth to {@code listener} as it is generated (on the generating
     * thread), so a live view (the demo's Bayes-optimal AUC) need not wait for the run to end.
     */
    public SyntheticEventGenerator onImpression(Consumer<ImpressionTruth> listener) {
        this.impressionListener = listener;
        return this;
    }

    /** Generates the whole stream into {@code sink}, in delivery order, and returns what it produced. */
    public GroundTruth run(Consumer<GeneratedRecord> sink) {
        return new Run(sink).execute();
    }

    private final class Run {
        private final SplittableRandom worldRng;
        private final SplittableRandom eventRng;
        private final SplittableRandom faultRng;
        private final SyntheticWorld world;
        private final GroundTruth truth;
        private final Consumer<GeneratedRecord> sink;
        private final PriorityQueue<Pending> pending =
                new PriorityQueue<>(Comparator.comparingLong(Pending::deliveryTimeMs).thenComparingLong(Pending::sequence));
        private final User[] activeSessions = new User[ACTIVE_SESSIONS];
        private final AvroCodec<AdAuction> auctionCodec = AvroCodec.forTopic(EventTopic.AD_AUCTIONS, AdAuction.class);
        private final AvroCodec<AdImpression> impressionCodec = AvroCodec.forTopic(EventTopic.AD_IMPRESSIONS, AdImpression.class);
        private final AvroCodec<AdClick> clickCodec = AvroCodec.forTopic(EventTopic.AD_CLICKS, AdClick.class);
        private long sequence;
        private long orphanCounter;
        private long malformedCounter;
        private int activeCount;

        Run(Consumer<GeneratedRecord> sink) {
            SplittableRandom root = new SplittableRandom(config.seed());
            this.worldRng = root.split();
            this.eventRng = root.split();
            this.faultRng = root.split();
            this.world = new SyntheticWorld(config, worldRng);
            this.truth = new GroundTruth(config.seed(), config.attributionWindowMs());
            this.sink = sink;
        }

        GroundTruth execute() {
            double meanGapMs = 1000.0 / config.auctionsPerSecond();
            double time = config.startTimeMs();
            for (long n = 0; n < config.auctions(); n++) {
                time += -Math.log(1 - eventRng.nextDouble()) * meanGapMs;
                long requestTimeMs = (long) time;
                deliverUpTo(requestTimeMs);
                auction(n, requestTimeMs);
            }
            deliverUpTo(Long.MAX_VALUE);
            return truth;
        }

        private void auction(long n, long requestTimeMs) {
            User user = nextUser();
            Slot slot = world.slots.get(eventRng.nextInt(world.slots.size()));
            String auctionId = String.format("a%d-%08d", config.seed(), n);
            List<Ad> ads = sampleAds(Math.min(config.candidatesPerAuction(), world.ads.size()));
            long[] bids = new long[ads.size()];
            List<Candidate> candidates = new ArrayList<>(ads.size());
            Integer[] order = new Integer[ads.size()];
            for (int i = 0; i < ads.size(); i++) {
                Ad ad = ads.get(i);
                bids[i] = world.bidMicros(ad, user, eventRng);
                candidates.add(new Candidate(ad.adId(), ad.campaignId(), ad.advertiserId(), ad.categoryId(), bids[i]));
                order[i] = i;
            }
            Arrays.sort(order, Comparator.<Integer>comparingLong(i -> -bids[i]).thenComparing(i -> ads.get(i).adId()));

            List<AuctionWinner> winners = new ArrayList<>();
            for (int k = 0; k < slot.positions() && k < order.length && bids[order[k]] >= slot.floorMicros(); k++) {
                long nextBid = k + 1 < order.length ? bids[order[k + 1]] : 0;
                long marketPrice = Math.min(bids[order[k]], Math.max(nextBid, slot.floorMicros()));
                winners.add(new AuctionWinner(ads.get(order[k]).adId(), k + 1, marketPrice));
            }
            AdAuction auction = new AdAuction(auctionId, requestTimeMs, user.userId, scenario(slot),
                    context(user, requestTimeMs), Pricing.CPC, slot.floorMicros(), candidates, winners, false);
            enqueue(EventTopic.AD_AUCTIONS, auction, requestTimeMs);
            truth.auctions++;
            truth.candidates += candidates.size();

            int shown = 0;
            double[] ctrs = new double[winners.size()];
            long[] impressionTimes = new long[winners.size()];
            boolean[] rendered = new boolean[winners.size()];
            for (int k = 0; k < winners.size(); k++) {
                Ad ad = ads.get(order[k]);
                rendered[k] = faultRng.nextDouble() >= config.unrenderedRate();
                impressionTimes[k] = requestTimeMs + 20 + eventRng.nextInt(280);
                ctrs[k] = world.trueCtr(user, ad, slot, k + 1, impressionTimes[k]);
            }
            for (int k = 0; k < winners.size(); k++) {
                Ad ad = ads.get(order[k]);
                boolean clicked = eventRng.nextDouble() < ctrs[k];
                if (!rendered[k]) {
                    continue;
                }
                shown++;
                world.recordExposure(user, ad, impressionTimes[k], clicked);
                impression(auctionId, k + 1, user, ad, impressionTimes[k], ctrs[k], clicked);
            }
            if (shown == 0) {
                truth.auctionsWithoutImpression++;
            }
        }

        private void impression(String auctionId, int position, User user, Ad ad, long impressionTimeMs,
                double ctr, boolean clicked) {
            String impressionId = auctionId + "-p" + position;
            enqueue(EventTopic.AD_IMPRESSIONS,
                    new AdImpression(impressionId, auctionId, user.userId, ad.adId(), position, impressionTimeMs),
                    impressionTimeMs);
            truth.impressions++;
            boolean withinWindow = false;
            if (clicked) {
                boolean late = faultRng.nextDouble() < config.lateClickRate();
                long window = config.attributionWindowMs();
                long delay = late
                        ? window + 1_000 + (long) (faultRng.nextDouble() * 30 * 60_000)
                        : Math.min(window - 1, (long) Math.exp(Math.log(15_000) + eventRng.nextGaussian()));
                long clickTimeMs = impressionTimeMs + Math.max(200, delay);
                withinWindow = !late;
                AdClick click = new AdClick(impressionId + "-c", impressionId, user.userId, ad.adId(), clickTimeMs);
                long delivery = enqueue(EventTopic.AD_CLICKS, click, clickTimeMs);
                truth.clicks++;
                if (late) {
                    truth.lateClicks++;
                } else {
                    truth.clickedImpressions++;
                }
                if (!late && faultRng.nextDouble() < config.duplicateClickRate()) {
                    // A resend of the same click, delivered a little later.
                    enqueueAt(GeneratedRecord.valid(EventTopic.AD_CLICKS, click, clickTimeMs,
                            delivery + 100 + faultRng.nextInt(5_000)));
                    truth.duplicateClicks++;
                }
                if (faultRng.nextDouble() < config.orphanClickRate()) {
                    String orphanImpression = String.format("orphan%d-%08d", config.seed(), orphanCounter++);
                    enqueue(EventTopic.AD_CLICKS, new AdClick(orphanImpression + "-c", orphanImpression,
                            user.userId, ad.adId(), clickTimeMs), clickTimeMs);
                    truth.orphanClicks++;
                }
            }
            ImpressionTruth impressionTruth = new ImpressionTruth(impressionId, auctionId, user.userId, ad.adId(),
                    ad.categoryId(), position, impressionTimeMs, ctr, withinWindow);
            truth.impressionTruths.add(impressionTruth);
            impressionListener.accept(impressionTruth);
        }

        private User nextUser() {
            if (activeCount > 0 && eventRng.nextDouble() < SESSION_CONTINUE) {
                return activeSessions[eventRng.nextInt(activeCount)];
            }
            User user = world.drawUser(eventRng);
            if (activeCount < ACTIVE_SESSIONS) {
                activeSessions[activeCount++] = user;
            } else {
                activeSessions[eventRng.nextInt(ACTIVE_SESSIONS)] = user;
            }
            return user;
        }

        private List<Ad> sampleAds(int count) {
            List<Ad> chosen = new ArrayList<>(count);
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            while (chosen.size() < count) {
                int index = eventRng.nextInt(world.ads.size());
                if (seen.add(index)) {
                    chosen.add(world.ads.get(index));
                }
            }
            return chosen;
        }

        private Scenario scenario(Slot slot) {
            return new Scenario(slot.pageId(), slot.slotId(), slot.exchange(), slot.width(), slot.height(),
                    slot.visibility(), slot.format());
        }

        private RequestContext context(User user, long timeMs) {
            ZonedDateTime at = Instant.ofEpochMilli(timeMs).atZone(ZoneOffset.UTC);
            return new RequestContext(user.device, null, user.region, null, at.getHour(),
                    at.getDayOfWeek().getValue() % 7, user.tags);
        }

        /** Queues a valid record with its transport delay, then perhaps a malformed one beside it. */
        private long enqueue(EventTopic topic, SpecificRecord value, long eventTimeMs) {
            boolean outOfOrder = faultRng.nextDouble() < config.outOfOrderRate();
            long transport = outOfOrder
                    ? 300 + (long) (faultRng.nextDouble() * Math.max(1, config.maxDisorderMs() - 300))
                    : faultRng.nextInt(50);
            long delivery = eventTimeMs + transport;
            enqueueAt(GeneratedRecord.valid(topic, value, eventTimeMs, delivery));
            if (faultRng.nextDouble() < config.malformedRate()) {
                enqueueAt(malformed(topic, value, eventTimeMs, delivery));
            }
            return delivery;
        }

        private GeneratedRecord malformed(EventTopic topic, SpecificRecord valid, long eventTimeMs, long delivery) {
            long n = malformedCounter++;
            String badId = "bad" + config.seed() + "-" + n;
            switch (faultRng.nextInt(3)) {
                case 0 -> {
                    byte[] garbage = ("garbage " + badId).getBytes(StandardCharsets.UTF_8);
                    return new GeneratedRecord(topic, badId, null, garbage, "undecodable bytes", eventTimeMs, delivery);
                }
                case 1 -> {
                    byte[] encoded = encode(topic, valid);
                    byte[] truncated = Arrays.copyOf(encoded, encoded.length / 2);
                    return new GeneratedRecord(topic, topic.keyOf(valid), null, truncated, "truncated record",
                            eventTimeMs, delivery);
                }
                default -> {
                    return invalidValues(topic, valid, badId, eventTimeMs, delivery);
                }
            }
        }

        private GeneratedRecord invalidValues(EventTopic topic, SpecificRecord valid, String badId, long eventTimeMs,
                long delivery) {
            switch (topic) {
                case AD_AUCTIONS -> {
                    AdAuction bad = AdAuction.newBuilder((AdAuction) valid).setAuctionId(badId).build();
                    if (!bad.getWinners().isEmpty()) {
                        AuctionWinner first = bad.getWinners().get(0);
                        long bid = bad.getCandidates().stream().filter(c -> c.getAdId().equals(first.getAdId()))
                                .mapToLong(Candidate::getBidMicros).findFirst().orElse(0);
                        bad.setWinners(List.of(AuctionWinner.newBuilder(first).setMarketPriceMicros(bid + 1).build()));
                        return new GeneratedRecord(topic, badId, bad, null, "market price above the winner's bid",
                                eventTimeMs, delivery);
                    }
                    bad.setCandidates(List.of(Candidate.newBuilder(bad.getCandidates().get(0)).setBidMicros(-1).build()));
                    return new GeneratedRecord(topic, badId, bad, null, "negative bid", eventTimeMs, delivery);
                }
                case AD_IMPRESSIONS -> {
                    AdImpression bad = AdImpression.newBuilder((AdImpression) valid)
                            .setImpressionId("").setAuctionId(badId).build();
                    return new GeneratedRecord(topic, badId, bad, null, "missing impression_id", eventTimeMs, delivery);
                }
                default -> {
                    AdClick bad = AdClick.newBuilder((AdClick) valid).setImpressionId(badId).setClickId(badId)
                            .setClickTimeMs(eventTimeMs + 400L * 24 * 3600 * 1000).build();
                    return new GeneratedRecord(topic, badId, bad, null, "click time far in the future",
                            eventTimeMs, delivery);
                }
            }
        }

        private byte[] encode(EventTopic topic, SpecificRecord value) {
            return switch (topic) {
                case AD_AUCTIONS -> auctionCodec.encode((AdAuction) value);
                case AD_IMPRESSIONS -> impressionCodec.encode((AdImpression) value);
                case AD_CLICKS -> clickCodec.encode((AdClick) value);
                default -> throw new IllegalArgumentException("the generator does not write " + topic);
            };
        }

        private void enqueueAt(GeneratedRecord record) {
            pending.add(new Pending(record.deliveryTimeMs(), sequence++, record));
        }

        private void deliverUpTo(long timeMs) {
            while (!pending.isEmpty() && pending.peek().deliveryTimeMs() < timeMs) {
                GeneratedRecord record = pending.poll().record();
                truth.countRecord(record);
                sink.accept(record);
            }
        }
    }

    private record Pending(long deliveryTimeMs, long sequence, GeneratedRecord record) {}
}
