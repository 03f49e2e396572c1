package org.ctrranker.jobs.cli;

import picocli.CommandLine.Option;

/**
 * The Kafka connection options shared by the commands that write events. {@code bin/ctr} fills
 * the default from the running local stack, so the flag is only needed for another cluster.
 */
public final class KafkaOptions {

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default: the local stack from 'bin/ctr stack up').")
    String bootstrapServers;

    public String bootstrapServers() {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new CommandFailure("no Kafka to write to: start the local stack with 'bin/ctr stack up' "
                    + "or pass --bootstrap-servers HOST:PORT");
        }
        return bootstrapServers;
    }
}
