package org.ctrranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HelpTextTest {

    private static void collect(CommandLine command, List<CommandLine> into) {
        into.add(command);
        command.getSubcommands().values().forEach(sub -> collect(sub, into));
    }

    /** picocli formats help text with String.format: a bare % warns on stderr and prints the text unformatted. */
    @Test
    void everyCommandsHelpFormatsWithoutWarnings() {
        List<CommandLine> commands = new ArrayList<>();
        collect(CtrCli.commandLine(), commands);
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        List<String> usages = new ArrayList<>();
        try {
            System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
            commands.forEach(c -> usages.add(c.getUsageMessage()));
        } finally {
            System.setErr(stderr);
        }
        assertThat(commands.size()).as("ctr, its commands and theirs").isGreaterThan(10);
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(usages).allSatisfy(usage -> assertThat(usage).doesNotContain("%n"));
    }
}
