package org.ctrranker.cli.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.ctrranker.events.AdAuction;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.EventTimePacer;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.schemas.EventTopic;

/**
 * Offers synthetic auctions (with their impressions and clicks) at a fixed rate in real time, event
 * time = wall clock, for a fixed time, through a producer that does not linger; optionally records
 * when each auction was handed to Kafka, for the latency measurement.
 */
final class AuctionLoad {

    private final String bootstrapServers;
    private final AtomicLong auctionsSent = new AtomicLong();
    private final Map<String, Long> sentAtMs;
    private final boolean recordSendTimes;

    AuctionLoad(String bootstrapServers, boolean recordSendTimes) {
        this.bootstrapServers = bootstrapServers;
        this.recordSendTimes = recordSendTimes;
        this.sentAtMs = recordSendTimes ? new ConcurrentHashMap<>() : Map.of();
    }

    /** Blocks for {@code seconds} while offering {@code rate} auctions/s of {@code candidates} each; returns the offered rate. */
    double offer(long seed, double rate, int candidates, double seconds) {
        long auctions = Math.max(1, Math.round(rate * seconds));
        GeneratorConfig config = GeneratorConfig.builder().seed(seed).auctions(auctions).auctionsPerSecond(rate)
                .candidatesPerAuction(candidates).startTimeMs(System.currentTimeMillis())
                .attributionWindowMs(15_000).noFaults().build();
        EventTimePacer pacer = new EventTimePacer(1.0);
        long start = System.nanoTime();
        long endNanos = start + (long) (seconds * 1e9);
        try (KafkaEventWriter writer = new KafkaEventWriter(bootstrapServers, KafkaEventWriter.defaultTopicNames(), 0, false)) {
            new SyntheticEventGenerator(config).run(record -> {
                // The trailing clicks of the last auctions would stretch the step: cut it at its time.
                if (System.nanoTime() > endNanos) {
                    throw new StepOver();
                }
                pacer.awaitDue(record.deliveryTimeMs());
                if (record.topic() == EventTopic.AD_AUCTIONS && record.value() instanceof AdAuction auction) {
                    if (recordSendTimes) {
                        sentAtMs.put(auction.getAuctionId(), System.currentTimeMillis());
                    }
                    writer.accept(record);
                    auctionsSent.incrementAndGet();
                } else {
                    writer.accept(record);
                }
            });
        } catch (StepOver e) {
            // the step's time is up
        }
        return auctionsSent.get() / ((System.nanoTime() - start) / 1e9);
    }

    /** {@link #offer}, returning the auctions sent. */
    long offerAndCount(long seed, double rate, int candidates, double seconds) {
        offer(seed, rate, candidates, seconds);
        return auctionsSent.get();
    }

    long auctionsSent() {
        return auctionsSent.get();
    }

    Map<String, Long> sentAtMs() {
        return sentAtMs;
    }

    private static final class StepOver extends RuntimeException {
        StepOver() {
            super(null, null, false, false);
        }
    }
}
