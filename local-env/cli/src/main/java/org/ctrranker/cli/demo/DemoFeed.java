package org.ctrranker.cli.demo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.ctrranker.events.AdAuction;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.EventTimePacer;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.replay.ReplayLog;
import org.ctrranker.schemas.EventTopic;

/**
 * Feeds the demo's input topics on its own thread: the synthetic generator in real time (event
 * time = wall clock) or a real log at a speed-up. Remembers the last auctions it sent, so the
 * demo can read their rankings back from Redis.
 */
final class DemoFeed implements Runnable {

    private static final int REMEMBERED_AUCTIONS = 64;
    /** One auction remembered per this much time, so the ring reaches back far enough to find scored ones. */
    private static final long REMEMBER_EVERY_MS = 200;

    /** An auction id and when (wall clock) it was handed to Kafka. */
    record SentAuction(String auctionId, long sentAtMs) {}

    private final String bootstrapServers;
    private final Source source;
    private final AtomicLong auctionsSent = new AtomicLong();
    private final ArrayDeque<SentAuction> recent = new ArrayDeque<>();
    private volatile boolean finished;
    private volatile boolean stopRequested;
    private volatile Throwable failure;

    /** Where the records come from: it hands each to the sink in delivery order, paced. */
    interface Source {
        void run(java.util.function.Consumer<GeneratedRecord> sink);
    }

    DemoFeed(String bootstrapServers, Source source) {
        this.bootstrapServers = bootstrapServers;
        this.source = source;
    }

    /** The synthetic generator, starting now and paced at real time; impressions' truths go to {@code bayes}. */
    static Source synthetic(GeneratorConfig config, BayesAucWindow bayes) {
        return sink -> {
            EventTimePacer pacer = new EventTimePacer(1.0);
            new SyntheticEventGenerator(config).onImpression(bayes::add).run(record -> {
                pacer.awaitDue(record.deliveryTimeMs());
                sink.accept(record);
            });
        };
    }

    /** A real log, played {@code speedup} times faster than its event time. */
    static Source replay(ReplayLog log, double speedup) {
        return sink -> {
            EventTimePacer pacer = new EventTimePacer(speedup);
            for (GeneratedRecord record : log.records()) {
                pacer.awaitDue(record.eventTimeMs());
                sink.accept(record);
            }
        };
    }

    @Override
    public void run() {
        // Paced in real time: batches of a few records, which compression would only turn into garbage.
        try (KafkaEventWriter writer =
                new KafkaEventWriter(bootstrapServers, KafkaEventWriter.defaultTopicNames(), 10, false)) {
            source.run(record -> {
                if (stopRequested || Thread.currentThread().isInterrupted()) {
                    throw new Stopped();
                }
                writer.accept(record);
                if (record.topic() == EventTopic.AD_AUCTIONS && !record.malformed()
                        && record.value() instanceof AdAuction auction) {
                    auctionsSent.incrementAndGet();
                    remember(new SentAuction(auction.getAuctionId(), System.currentTimeMillis()));
                }
            });
        } catch (Stopped e) {
            // the demo is stopping
        } catch (RuntimeException e) {
            // Interrupted while pacing or sending: the demo is stopping. Anything else is a failure to show.
            if (!Thread.currentThread().isInterrupted()) {
                failure = e;
            }
        } finally {
            finished = true;
        }
    }

    /** Asks the feed to stop at its next record (no interrupt: the Kafka producer closes cleanly). */
    void stop() {
        stopRequested = true;
    }

    long auctionsSent() {
        return auctionsSent.get();
    }

    boolean finished() {
        return finished;
    }

    Throwable failure() {
        return failure;
    }

    /** Up to {@code n} of the latest auctions sent at least {@code minAgeMs} ago, newest first. */
    synchronized List<SentAuction> recentAuctions(int n, long minAgeMs) {
        long cutoff = System.currentTimeMillis() - minAgeMs;
        List<SentAuction> out = new ArrayList<>();
        var it = recent.descendingIterator();
        while (it.hasNext() && out.size() < n) {
            SentAuction sent = it.next();
            if (sent.sentAtMs() <= cutoff) {
                out.add(sent);
            }
        }
        return out;
    }

    private synchronized void remember(SentAuction sent) {
        if (!recent.isEmpty() && sent.sentAtMs() - recent.peekLast().sentAtMs() < REMEMBER_EVERY_MS) {
            return;
        }
        recent.addLast(sent);
        if (recent.size() > REMEMBERED_AUCTIONS) {
            recent.removeFirst();
        }
    }

    /** Unwinds the generator when the demo stops. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }
}
