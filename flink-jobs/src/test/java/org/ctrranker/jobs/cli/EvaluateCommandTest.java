package org.ctrranker.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

    @Test
    void theDefaultsPassTheFlagCheck() {
        parsed("--format", "mind").checkFlags();
        parsed("--format", "synthetic", "--no-offline", "--epochs", "0").checkFlags();
        parsed("--format", "synthetic", "--no-wide", "--wide-buckets", "0").checkFlags();
    }

    /** Each bad value fails before any data is read, naming its flag (--no-offline keeps --epochs out of the way). */
    @ParameterizedTest
    @CsvSource({"--learning-rate,-1", "--learning-rate,0", "--wide-learning-rate,0", "--lambda,-0.1", "--history,0",
        "--slots,3", "--slots,0", "--embedding-dim,0", "--hash-buckets,8", "--wide-buckets,0", "--hidden,'200,0'", "--cross-layers,-1", "--batch-size,0",
        "--seeds,0", "--auctions,0", "--users,0", "--test-fraction,1.5", "--test-fraction,0", "--device,tpu"})
    void aBadNumberIsAOneLineMessageNamingItsFlag(String flag, String value) {
        assertThatThrownBy(() -> parsed("--format", "synthetic", "--no-offline", flag, value).checkFlags())
                .isInstanceOf(CommandFailure.class).hasMessageStartingWith(flag).hasMessageNotContaining("\n");
    }

    @Test
    void zeroEpochsNeedTheOfflineModeOff() {
        assertThatThrownBy(() -> parsed("--format", "synthetic", "--epochs", "0").checkFlags())
                .isInstanceOf(CommandFailure.class).hasMessageStartingWith("--epochs");
    }
}
