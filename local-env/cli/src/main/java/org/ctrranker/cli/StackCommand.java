package org.ctrranker.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ctrranker.jobs.cli.CommandFailure;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.StackOptions;
import org.ctrranker.localenv.WorkDirs;
import org.ctrranker.schemas.EventTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "stack", mixinStandardHelpOptions = true,
        description = "The local stack: a real Kafka broker (KRaft) and a real redis-server on loopback ports.",
        subcommands = {StackCommand.Up.class, StackCommand.Down.class, StackCommand.Status.class})
public final class StackCommand implements Runnable {

    @Override
    public void run() {
        throw new CommandFailure("name a subcommand: up, down or status (see 'bin/ctr stack --help')");
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Starts the stack in the background and prints KAFKA_BOOTSTRAP=... and REDIS_URL=...",
                    "Later commands find it without flags. Does nothing but print those lines if it already runs."})
    static final class Up implements Callable<Integer> {

        @Option(names = "--partitions", defaultValue = "4", description = "Partitions per topic (default: ${DEFAULT-VALUE}).")
        int partitions;

        @Override
        public Integer call() {
            if (partitions < 1) {
                throw new CommandFailure("--partitions must be >= 1, got " + partitions);
            }
            Optional<LocalStack> running = LocalStack.findRunning(CtrCli.stackDir());
            if (running.isPresent() && running.get().isRunning()) {
                System.out.print(running.get().endpoints().asEnvLines());
                return 0;
            }
            running.ifPresent(LocalStack::close);
            LocalStack stack = LocalStack.start(StackOptions.builder().workDir(CtrCli.stackDir())
                    .partitions(partitions).detached(true).build());
            System.out.print(stack.endpoints().asEnvLines());
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Stops the stack and deletes its data.")
    static final class Down implements Callable<Integer> {
        @Override
        public Integer call() {
            Optional<LocalStack> running = LocalStack.findRunning(CtrCli.stackDir());
            if (running.isEmpty()) {
                System.out.println("no local stack is running");
                return 0;
            }
            running.get().close();
            WorkDirs.deleteRecursively(CtrCli.stackDir());
            System.out.println("local stack stopped");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Prints the stack's addresses and process ids and, as one JSON line, the committed records per topic.",
                    "Exits with status 3 when no stack is running."})
    static final class Status implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Optional<LocalStack> running = LocalStack.findRunning(CtrCli.stackDir());
            if (running.isEmpty() || !running.get().isRunning()) {
                System.out.println("no local stack is running (start it with 'bin/ctr stack up')");
                return 3;
            }
            LocalStack stack = running.get();
            System.out.print(stack.endpoints().asEnvLines());
            System.out.println("PIDS=" + stack.pids().stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElse(""));
            List<String> topics = Arrays.stream(EventTopic.values()).map(EventTopic::defaultName).toList();
            Map<String, Long> counts = stack.countRecords(topics);
            System.out.println(new ObjectMapper().writeValueAsString(Map.of("records", new java.util.TreeMap<>(counts))));
            return 0;
        }
    }
}
