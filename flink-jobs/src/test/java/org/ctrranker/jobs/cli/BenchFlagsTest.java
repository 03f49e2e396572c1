package org.ctrranker.jobs.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.Callable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** Bad numbers for the benchmarks fail at once with a line naming the flag, before any model or cluster starts. */
class BenchFlagsTest {

    private static <T extends Callable<Integer>> T parsed(T command, String... args) {
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @ParameterizedTest
    @CsvSource({"--batches,0", "--batches,'64,-1'", "--train-batch,0", "--seconds,0", "--device,tpu"})
    void benchModel(String flag, String value) {
        assertThatThrownBy(() -> parsed(new BenchModelCommand(), flag, value).checkFlags())
                .isInstanceOf(CommandFailure.class).hasMessageStartingWith(flag);
    }

    @ParameterizedTest
    @CsvSource({"--auctions,0", "--repeat,0", "--checkpoint-interval,-1"})
    void benchJoins(String flag, String value) {
        assertThatThrownBy(() -> parsed(new BenchJoinsCommand(), flag, value).call())
                .isInstanceOf(CommandFailure.class).hasMessageContaining(flag.substring(2)).hasMessageContaining(value);
    }
}
