package org.ctrranker.cli;

import org.ctrranker.cli.bench.BenchRedisCommand;
import org.ctrranker.cli.bench.E2eBenchmarkCommand;
import org.ctrranker.jobs.cli.BenchJoinsCommand;
import org.ctrranker.jobs.cli.BenchModelCommand;
import org.ctrranker.jobs.cli.CommandFailure;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks (figures for the issue notes; never part of the tests).",
        subcommands = {BenchJoinsCommand.class, BenchModelCommand.class, E2eBenchmarkCommand.class, BenchParityCommand.class,
                BenchRedisCommand.class})
public final class BenchCommand implements Runnable {

    @Override
    public void run() {
        throw new CommandFailure("name a benchmark: joins, model or e2e (see 'bin/ctr bench --help')");
    }
}
