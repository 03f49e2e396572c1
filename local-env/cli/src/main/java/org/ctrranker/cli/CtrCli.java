package org.ctrranker.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import org.ctrranker.cli.demo.DemoCommand;
import org.ctrranker.jobs.cli.CommandFailure;
import org.ctrranker.jobs.cli.EvaluateCommand;
import org.ctrranker.jobs.cli.GenerateCommand;
import org.ctrranker.jobs.cli.QueryCommand;
import org.ctrranker.jobs.cli.ReplayCommand;
import org.ctrranker.jobs.cli.RunCommand;
import org.ctrranker.localenv.LocalStack;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/** {@code bin/ctr}: the one launcher for the local stack, the event sources, the job and the tools. */
@Command(name = "ctr", mixinStandardHelpOptions = true, version = "ctr-ranker 0.1.0-SNAPSHOT",
        description = "ctr-ranker: real-time CTR ranking on Apache Flink. Run 'bin/ctr COMMAND --help' for a command's options.",
        subcommands = {DemoCommand.class, StackCommand.class, GenerateCommand.class, ReplayCommand.class, RunCommand.class,
                QueryCommand.class, EvaluateCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class CtrCli implements Runnable {

    /** Where the local stack keeps its state; bin/ctr sets it to the checkout's .ctr folder. */
    static Path home() {
        String configured = System.getProperty("ctr.home");
        return Path.of(configured != null ? configured : System.getProperty("user.dir") + "/.ctr");
    }

    static Path stackDir() {
        return home().resolve("stack");
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new CtrCli());
        cli.setDefaultValueProvider(new RunningStackDefaults());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
            if (cause instanceof CommandFailure || cause instanceof IOException) {
                commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + cause.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }

    /** Fills --bootstrap-servers and --redis from the stack that 'bin/ctr stack up' started, if any. */
    static final class RunningStackDefaults implements CommandLine.IDefaultValueProvider {
        private Optional<LocalStack> stack;

        @Override
        public String defaultValue(ArgSpec argSpec) {
            if (!(argSpec instanceof OptionSpec option)) {
                return null;
            }
            return switch (option.longestName()) {
                case "--bootstrap-servers" -> stack().map(s -> s.endpoints().kafkaBootstrap()).orElse(null);
                case "--redis" -> stack().map(s -> s.endpoints().redisUrl()).orElse(null);
                // Checkpoints of 'run' live beside the stack's data; 'stack down' removes both.
                case "--checkpoint-dir" -> stack().map(s -> stackDir().resolve("checkpoints").toString()).orElse(null);
                default -> null;
            };
        }

        private Optional<LocalStack> stack() {
            if (stack == null) {
                stack = LocalStack.findRunning(stackDir()).filter(LocalStack::isRunning);
            }
            return stack;
        }
    }
}
