package org.ctrranker.operators.redis;

import java.io.IOException;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Flink sink of {@link VersionedWrite}s into Redis hashes: buffered per key (only the newest version of
 * a key is sent), pipelined, applied by a compare-and-set script so a write never replaces a newer or
 * equal version. Replaying the same writes (after a failover or a rerun) therefore leaves Redis
 * unchanged byte for byte. Flushed on every checkpoint, at the end of input, when {@code maxBufferedKeys}
 * keys wait, and every {@code flushIntervalMs} of processing time (freshness for serving).
 */
public final class VersionedRedisSink implements Sink<VersionedWrite> {

    private static final long serialVersionUID = 1L;

    private final RedisEndpoint endpoint;
    private final int maxBufferedKeys;
    private final long flushIntervalMs;

    public VersionedRedisSink(RedisEndpoint endpoint, int maxBufferedKeys, long flushIntervalMs) {
        if (maxBufferedKeys < 1 || flushIntervalMs < 1) {
            throw new IllegalArgumentException("buffer size and flush interval must be positive");
        }
        this.endpoint = endpoint;
        this.maxBufferedKeys = maxBufferedKeys;
        this.flushIntervalMs = flushIntervalMs;
    }

    /** Defaults: 1000 keys per pipeline, flushed at least every second. */
    public static VersionedRedisSink to(String redisUrl) {
        return new VersionedRedisSink(RedisEndpoint.parse(redisUrl), 1_000, 1_000);
    }

    @Override
    public SinkWriter<VersionedWrite> createWriter(WriterInitContext context) throws IOException {
        VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, maxBufferedKeys, context.metricGroup());
        writer.flushEvery(context.getProcessingTimeService(), flushIntervalMs);
        return writer;
    }
}
