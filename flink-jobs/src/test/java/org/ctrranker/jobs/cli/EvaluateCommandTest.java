package org.ctrranker.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class EvaluateCommandTest {

    private static EvaluateCommand parsed(String... args) {
        EvaluateCommand command = new EvaluateCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void mindTrainsAtItsOwnRateUnlessOneIsGiven() {
        assertThat(parsed("--format", "mind").learningRate()).isEqualTo(EvaluateCommand.MIND_LEARNING_RATE);
        assertThat(parsed("--format", "synthetic").learningRate()).isEqualTo(EvaluateCommand.LEARNING_RATE);
        assertThat(parsed("--format", "ipinyou-fm").learningRate()).isEqualTo(EvaluateCommand.LEARNING_RATE);
        assertThat(parsed("--format", "mind", "--learning-rate", "0.002").learningRate()).isEqualTo(0.002f);
        assertThat(EvaluateCommand.MIND_LEARNING_RATE).isNotEqualTo(EvaluateCommand.LEARNING_RATE);
    }
}
