package org.ctrranker.jobs.cli;

import java.io.IOException;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.operators.redis.RedisEndpoint;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/** Where the job's serving state is (the Redis URL and key prefix), and one guarded read of it, for the query commands. */
public final class ServingStateOptions {

    @Mixin
    RedisOptions redis;

    @Option(names = "--key-prefix", defaultValue = "ctr", paramLabel = "PREFIX",
            description = "The job's ctr.redis.key-prefix (default: ${DEFAULT-VALUE}).")
    String keyPrefix;

    /** A read of Redis. */
    public interface Read<T> {
        T from(UnifiedJedis jedis) throws IOException;
    }

    public String keyPrefix() {
        return keyPrefix;
    }

    /** Runs {@code read} with a client of the server (or cluster); connection and server errors become a one-line failure naming the fix. */
    public <T> T read(Read<T> read) throws IOException {
        RedisEndpoint endpoint;
        try {
            endpoint = RedisEndpoint.parse(redis.url()).withPasswordIfAbsent(System.getenv(ConfiguredJobIO.REDIS_PASSWORD_ENV));
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
        try (UnifiedJedis jedis = endpoint.client()) {
            return read.from(jedis);
        } catch (JedisException e) {
            throw new CommandFailure("cannot read " + endpoint + ": " + e.getMessage()
                    + " (check --redis, and CTR_REDIS_PASSWORD when Redis needs a password)");
        }
    }
}
