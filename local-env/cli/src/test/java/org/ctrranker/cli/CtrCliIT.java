package org.ctrranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's stack lifecycle and the generator's ground truth against the real topics. */
class CtrCliIT {

    @TempDir
    Path home;

    private String previousHome;

    @BeforeEach
    void useTemporaryHome() {
        previousHome = System.getProperty("ctr.home");
        System.setProperty("ctr.home", home.toString());
    }

    @AfterEach
    void stopStackAndRestoreHome() {
        run("stack", "down");
        if (previousHome == null) {
            System.clearProperty("ctr.home");
        } else {
            System.setProperty("ctr.home", previousHome);
        }
    }

    @Test
    void stackUpGenerateStatusDownMatchesTheGroundTruthAndLeavesNoProcess() throws Exception {
        Result up = run("stack", "up");
        assertThat(up.exitCode).isZero();
        List<String> lines = up.stdout.lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("KAFKA_BOOTSTRAP=127\\.0\\.0\\.1:\\d+");
        assertThat(lines.get(1)).matches("REDIS_URL=redis://127\\.0\\.0\\.1:\\d+");
        assertThat(run("stack", "up").stdout).as("up again finds the running stack").isEqualTo(up.stdout);

        Result generate = run("generate", "--seed", "1", "--auctions", "20000", "--speedup", "0", "--malformed-rate", "0.005");
        assertThat(generate.exitCode).as(generate.stderr).isZero();
        List<String> generateLines = generate.stdout.lines().toList();
        JsonNode truth = new ObjectMapper().readTree(generateLines.get(generateLines.size() - 1));
        assertThat(truth.get("auctions").asLong()).isEqualTo(20_000);
        assertThat(truth.get("bayes_optimal_auc").asDouble()).isBetween(0.6, 0.99);

        Result status = run("stack", "status");
        assertThat(status.exitCode).isZero();
        assertThat(status.stdout).startsWith(up.stdout);
        List<String> statusLines = status.stdout.lines().toList();
        JsonNode records = new ObjectMapper().readTree(statusLines.get(statusLines.size() - 1)).get("records");
        for (String topic : List.of("ad-auctions", "ad-impressions", "ad-clicks")) {
            assertThat(records.get(topic).asLong()).as(topic).isEqualTo(truth.get("records").get(topic).asLong());
        }
        assertThat(records.get("training-samples").asLong()).isZero();
        List<Long> pids = Arrays.stream(statusLines.get(2).substring("PIDS=".length()).split(","))
                .map(Long::parseLong).toList();

        Result down = run("stack", "down");
        assertThat(down.stdout).contains("stopped");
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("pid %d", pid).isFalse());
        assertThat(run("stack", "status").exitCode).isEqualTo(3);
        assertThat(Files.exists(home.resolve("stack"))).isFalse();
    }

    @Test
    void commandsWithoutAStackOrWithBadFlagsSayWhatToDoInOneLine() {
        Result noStack = run("generate", "--auctions", "10");
        assertThat(noStack.exitCode).isEqualTo(2);
        assertThat(noStack.stderr.strip()).isEqualTo("ctr generate: no Kafka to write to: start the local stack with "
                + "'bin/ctr stack up' or pass --bootstrap-servers HOST:PORT");

        Result badRate = run("generate", "--duplicate-rate", "7", "--bootstrap-servers", "127.0.0.1:1");
        assertThat(badRate.exitCode).isEqualTo(2);
        assertThat(badRate.stderr.strip()).isEqualTo("ctr generate: duplicate click rate must be a probability in [0, 1], got 7.0");

        Result unknownFormat = run("replay", "--format", "csv", "x.csv");
        assertThat(unknownFormat.exitCode).isEqualTo(2);
        assertThat(unknownFormat.stderr).contains("--format").contains("ipinyou, mind");

        for (String command : List.of("stack", "generate", "replay")) {
            Result help = run(command, "--help");
            assertThat(help.exitCode).isZero();
            assertThat(help.stdout).startsWith("Usage: ctr " + command);
        }
    }

    private record Result(int exitCode, String stdout, String stderr) {}

    private static Result run(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream capturedOut = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream capturedErr = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(capturedOut);
            System.setErr(capturedErr);
            var cli = CtrCli.commandLine();
            cli.setOut(new java.io.PrintWriter(capturedOut, true));
            cli.setErr(new java.io.PrintWriter(capturedErr, true));
            int code = cli.execute(new ArrayList<>(List.of(args)).toArray(String[]::new));
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }
}
