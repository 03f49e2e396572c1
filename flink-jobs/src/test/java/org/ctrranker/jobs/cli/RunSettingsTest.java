package org.ctrranker.jobs.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** A setting the job's stages refuse fails `run` at once with their one-line message, before anything starts. */
class RunSettingsTest {

    @ParameterizedTest
    @CsvSource({"ctr.attribution.park-feedback=sometimes, 'use auto, true or false'",
            "ctr.attribution.delayed-feedback-mode=sometimes, use wait-window or fake-negative"})
    void aRefusedSettingIsOneLine(String setting, String fix) {
        RunCommand run = new RunCommand();
        // nothing listens on port 1: the run must fail before it tries to connect
        new CommandLine(run).parseArgs("--bounded", "--bootstrap-servers", "127.0.0.1:1", "--redis",
                "redis://127.0.0.1:1", "--set", setting);
        assertThatThrownBy(run::call).isInstanceOf(CommandFailure.class).hasMessageContaining(fix);
    }
}
