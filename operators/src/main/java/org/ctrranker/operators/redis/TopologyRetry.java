package org.ctrranker.operators.redis;

import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * How long one write is tried again while the servers behind an endpoint change under it, with growing pauses, before
 * the writer gives up and Flink restarts the job, which replays into the change. A Redis Cluster's reshard migrates
 * slot after slot, each one's old primary refusing the keys it does not hold (ASK) until its last key has moved:
 * seconds per slot on a busy primary; the versioned writer sends those keys to the importing primary once it has
 * reloaded the slot map, a writer that does not waits for the move. Under Sentinel a failed primary's connections break, or it answers as a replica (READONLY), until
 * the Sentinels have promoted a replica: their {@code down-after-milliseconds} plus a few seconds.
 */
public final class TopologyRetry {

    /** The time a write rides out a change. */
    public static final long SETTLE_MS = 30_000;

    private final long start = System.nanoTime();
    private int failedTries;

    /**
     * Whether {@code failure} of a call to {@code endpoint} may pass once the servers settle: a cluster's slot moving,
     * or a Sentinel-watched primary failing over. Anything else is the caller's to report.
     */
    public static boolean mayPass(RedisEndpoint endpoint, RuntimeException failure) {
        String message = failure.getMessage() == null ? "" : failure.getMessage();
        if (endpoint.cluster()) {
            return failure instanceof JedisRedirectionException || message.startsWith("TRYAGAIN")
                    || message.startsWith("CLUSTERDOWN") || message.contains("non local key");
        }
        if (endpoint.sentinel()) {
            return failure instanceof JedisConnectionException
                    || (failure instanceof JedisDataException && (message.startsWith("READONLY")
                    || message.startsWith("LOADING") || message.startsWith("MASTERDOWN")))
                    // no Sentinel names a primary yet (all of them restarting, or none reachable for a moment)
                    || (failure instanceof IllegalStateException && message.startsWith("no Redis Sentinel named"));
        }
        return false;
    }

    /** Counts a failed try and pauses before the next; false, without pausing, once {@link #SETTLE_MS} have passed. */
    public boolean pauseBeforeNextTry() throws InterruptedIOException {
        failedTries++;
        if (elapsedMs() >= SETTLE_MS) {
            return false;
        }
        try {
            Thread.sleep(50L << Math.min(failedTries, 5)); // 100 ms, doubling up to 1.6 s
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for Redis to settle");
        }
        return true;
    }

    /** For the message when it gives up. */
    public String spent() {
        return failedTries + " tries in " + elapsedMs() + " ms";
    }

    private long elapsedMs() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
