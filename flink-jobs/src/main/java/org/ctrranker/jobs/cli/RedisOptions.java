package org.ctrranker.jobs.cli;

import picocli.CommandLine.Option;

/** The Redis connection option; {@code bin/ctr} fills the default from the running local stack. */
public final class RedisOptions {

    @Option(names = "--redis", paramLabel = "URL",
            description = "Redis URL, redis://[user:password@]host:port or rediss:// for TLS; redis-cluster:// "
                    + "(or rediss-cluster://) and any node of a Redis Cluster; redis-sentinel://host:26379[,host:port...]"
                    + "#primary-name (or rediss-sentinel://) for the primary Sentinels name (default: the local stack "
                    + "from 'bin/ctr stack up').")
    String url;

    public String url() {
        if (url == null || url.isBlank()) {
            throw new CommandFailure("no Redis: start the local stack with 'bin/ctr stack up' or pass --redis URL");
        }
        return url;
    }
}
