package org.ctrranker.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code bin/ctr query}: reads the serving state the job keeps in Redis: rankings, users, ads, models. */
@Command(name = "query", mixinStandardHelpOptions = true,
        description = "Reads the serving state the job keeps in Redis (operators/REDIS-KEYS.md).",
        subcommands = {QueryRankCommand.class, QueryUserCommand.class, QueryAdCommand.class, QueryModelCommand.class})
public final class QueryCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name what to query: 'query rank AUCTION_ID', 'query user USER_ID',"
                + " 'query ad AD_ID' or 'query model'");
    }
}
