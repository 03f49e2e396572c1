package org.ctrranker.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.ctrranker.models.eval.DataSets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {

    private static Map<String, String> settings(String... args) {
        DemoCommand command = new DemoCommand();
        new CommandLine(command).parseArgs(args);
        return command.demoSettings(15_000);
    }

    @Test
    void aMindReplayTrainsAtMindsRateUnlessOneIsSet() {
        assertThat(settings("--replay", "mind", "behaviors.tsv")).containsEntry("ctr.model.learning-rate", DataSets.MIND_LEARNING_RATE);
        assertThat(settings("--replay", "mind", "--set", "ctr.model.learning-rate=0.001", "behaviors.tsv"))
                .containsEntry("ctr.model.learning-rate", "0.001");
        assertThat(settings("--replay", "ipinyou", "a.log.txt")).doesNotContainKey("ctr.model.learning-rate");
        assertThat(settings()).doesNotContainKey("ctr.model.learning-rate").containsEntry("ctr.attribution.window-ms", "15000");
    }
}
