package org.ctrranker.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code bin/ctr query}: reads the serving state the job keeps in Redis. A parent command, so that the
 * reads of later stages (rankings, model versions) join {@code user} as siblings.
 */
@Command(name = "query", mixinStandardHelpOptions = true,
        description = "Reads the serving state the job keeps in Redis (operators/REDIS-KEYS.md).",
        subcommands = {QueryUserCommand.class})
public final class QueryCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name what to query, e.g. 'query user USER_ID'");
    }
}
