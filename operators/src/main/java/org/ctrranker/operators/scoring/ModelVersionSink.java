package org.ctrranker.operators.scoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.RedisNodes;
import org.ctrranker.operators.redis.TopologyRetry;
import org.ctrranker.operators.redis.VersionedRedisWriter;
import org.ctrranker.operators.redis.VersionedWrite;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Flink sink of the trainer's model versions into Redis (operators/REDIS-KEYS.md): a version's parameters to
 * the hash {@code :parameters:v<n>}, one field per slice of {@link #SLICE_BYTES} ({@code 0}, {@code 1}, ...), then
 * its metadata {@code :v<n>} and, for a live version, {@code :current} through a {@link VersionedRedisWriter}, in
 * that order and each step finished before the next: a reader that finds the metadata finds the parameters whole.
 *
 * <p>Why slices: Redis runs one command at a time, and the version's parameters (up to 10 MB at the defaults, once
 * every row has trained) in one command held the server 37 ms on an idle machine and up to 440 ms in
 * {@code bench e2e} on the loaded 2-core machine, with every ranking write, and every ad server's read, waiting
 * behind it. One 256 KB slice holds it about 0.3 ms, and it serves the other clients between them. Slices of one string value would not do: Redis
 * allocates and zeroes the whole value in one command (8 to 11 ms idle, 23 to 61 ms loaded, for 10 MB). Writing
 * the same slices again (a replay after a failover) changes nothing, as the versioned metadata writes do not.
 */
public final class ModelVersionSink implements Sink<ModelUpdate> {

    private static final long serialVersionUID = 1L;
    static final int SLICE_BYTES = 256 * 1024;

    private final RedisEndpoint endpoint;
    private final OnlineConfig config;

    public ModelVersionSink(RedisEndpoint endpoint, OnlineConfig config) {
        this.endpoint = endpoint;
        this.config = config;
    }

    @Override
    public SinkWriter<ModelUpdate> createWriter(WriterInitContext context) {
        return new Writer(endpoint, config, new VersionedRedisWriter(endpoint, 16, context.metricGroup()));
    }

    /** Writes each version synchronously: a few a minute, on a task of their own. */
    static final class Writer implements SinkWriter<ModelUpdate> {

        private final RedisEndpoint endpoint;
        private final OnlineConfig config;
        private final VersionedRedisWriter metadata;
        private final RedisNodes nodes;

        Writer(RedisEndpoint endpoint, OnlineConfig config, VersionedRedisWriter metadata) {
            this.endpoint = endpoint;
            this.config = config;
            this.metadata = metadata;
            this.nodes = new RedisNodes(endpoint);
        }

        @Override
        public void write(ModelUpdate update, Context context) throws IOException {
            writeParameters(update);
            for (VersionedWrite w : ServingWrites.model(config, update)) {
                metadata.write(w);
            }
            metadata.flush();
        }

        private void writeParameters(ModelUpdate update) throws IOException {
            String name = RedisKeys.modelParameters(config.redisKeyPrefix(), update.modelName, update.version);
            byte[] key = name.getBytes(StandardCharsets.UTF_8);
            byte[] parameters = update.parameters;
            int slices = slices(parameters.length);
            TopologyRetry retry = new TopologyRetry();
            while (true) {
                try {
                    Jedis connection = nodes.forKey(name);
                    long stored = connection.hlen(key);
                    try (Pipeline pipeline = connection.pipelined()) {
                        if (stored != 0 && stored != slices) {
                            pipeline.del(key); // another model's under the same name and number: not a replay of this one
                        }
                        for (int slice = 0; slice < slices; slice++) {
                            int from = slice * SLICE_BYTES;
                            pipeline.hset(key, Integer.toString(slice).getBytes(StandardCharsets.UTF_8),
                                    Arrays.copyOfRange(parameters, from, Math.min(parameters.length, from + SLICE_BYTES)));
                        }
                        if (config.modelTtlMs() > 0) {
                            pipeline.pexpire(key, config.modelTtlMs());
                        }
                        for (Object reply : pipeline.syncAndReturnAll()) {
                            if (reply instanceof JedisDataException error) {
                                throw error; // a slice refused (its slot began to move after HLEN): the version again
                            }
                        }
                    }
                    return;
                } catch (RuntimeException e) {
                    nodes.reset();
                    // a moving slot or a failing-over primary: write the version where it goes once that settles;
                    // anything else fails the job, whose restart from the last checkpoint writes the version again
                    if (!TopologyRetry.mayPass(endpoint, e)) {
                        throw new IOException("writing the parameters of model version " + update.version
                                + " to Redis at " + endpoint + " failed: " + e.getMessage(), e);
                    }
                    if (!retry.pauseBeforeNextTry()) {
                        throw new IOException("writing the parameters of model version " + update.version
                                + " to Redis at " + endpoint + " failed " + retry.spent() + " while its servers "
                                + "changed: " + e.getMessage(), e);
                    }
                }
            }
        }

        static int slices(int bytes) {
            return (bytes + SLICE_BYTES - 1) / SLICE_BYTES;
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            metadata.flush();
        }

        @Override
        public void close() {
            nodes.close();
            metadata.close();
        }
    }
}
