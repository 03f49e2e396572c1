package org.ctrranker.operators.redis;

import java.io.IOException;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Flink sink of {@link VersionedWrite}s into Redis hashes: buffered per key (only the newest version of
 * a key is sent), pipelined, applied by a compare-and-set script so a write never replaces a newer or
 * equal version. Replaying the same writes (after a failover or a rerun) therefore leaves Redis
 * unchanged byte for byte. Sent by the writer's own thread as soon as it is free, or once the oldest write
 * has waited {@code lingerMs}, or {@code maxBufferedKeys} keys wait; flushed on every checkpoint and at the
 * end of input.
 */
public final class VersionedRedisSink implements Sink<VersionedWrite> {

    private static final long serialVersionUID = 1L;

    private final RedisEndpoint endpoint;
    private final int maxBufferedKeys;
    private final long lingerMs;

    public VersionedRedisSink(RedisEndpoint endpoint, int maxBufferedKeys, long lingerMs) {
        if (maxBufferedKeys < 1 || lingerMs < 0) {
            throw new IllegalArgumentException("the buffer size must be positive and the linger not negative");
        }
        this.endpoint = endpoint;
        this.maxBufferedKeys = maxBufferedKeys;
        this.lingerMs = lingerMs;
    }

    /** Defaults: up to 1000 keys per pipeline, each sent as soon as the writer is free. */
    public static VersionedRedisSink to(String redisUrl) {
        return new VersionedRedisSink(RedisEndpoint.parse(redisUrl), 1_000, 0);
    }

    @Override
    public SinkWriter<VersionedWrite> createWriter(WriterInitContext context) throws IOException {
        return new VersionedRedisWriter(endpoint, maxBufferedKeys, lingerMs, context.metricGroup());
    }
}
