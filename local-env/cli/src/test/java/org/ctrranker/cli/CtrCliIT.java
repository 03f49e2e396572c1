package org.ctrranker.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
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
        CliRun.of("stack", "down");
        if (previousHome == null) {
            System.clearProperty("ctr.home");
        } else {
            System.setProperty("ctr.home", previousHome);
        }
    }

    @Test
    void stackUpGenerateStatusDownMatchesTheGroundTruthAndLeavesNoProcess() throws Exception {
        CliRun up = CliRun.of("stack", "up");
        assertThat(up.exitCode()).isZero();
        List<String> lines = up.stdout().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).matches("KAFKA_BOOTSTRAP=127\\.0\\.0\\.1:\\d+");
        assertThat(lines.get(1)).matches("REDIS_URL=redis://127\\.0\\.0\\.1:\\d+");
        assertThat(CliRun.of("stack", "up").stdout()).as("up again finds the running stack").isEqualTo(up.stdout());

        CliRun generate = CliRun.of("generate", "--seed", "1", "--auctions", "20000", "--speedup", "0", "--malformed-rate", "0.005");
        assertThat(generate.exitCode()).as(generate.stderr()).isZero();
        List<String> generateLines = generate.stdout().lines().toList();
        JsonNode truth = new ObjectMapper().readTree(generateLines.get(generateLines.size() - 1));
        assertThat(truth.get("auctions").asLong()).isEqualTo(20_000);
        assertThat(truth.get("bayes_optimal_auc").asDouble()).isBetween(0.6, 0.99);

        CliRun status = CliRun.of("stack", "status");
        assertThat(status.exitCode()).isZero();
        assertThat(status.stdout()).startsWith(up.stdout());
        List<String> statusLines = status.stdout().lines().toList();
        JsonNode records = new ObjectMapper().readTree(statusLines.get(statusLines.size() - 1)).get("records");
        for (String topic : List.of("ad-auctions", "ad-impressions", "ad-clicks")) {
            assertThat(records.get(topic).asLong()).as(topic).isEqualTo(truth.get("records").get(topic).asLong());
        }
        assertThat(records.get("training-samples").asLong()).isZero();
        List<Long> pids = Arrays.stream(statusLines.get(2).substring("PIDS=".length()).split(","))
                .map(Long::parseLong).toList();

        CliRun down = CliRun.of("stack", "down");
        assertThat(down.stdout()).contains("stopped");
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("pid %d", pid).isFalse());
        assertThat(CliRun.of("stack", "status").exitCode()).isEqualTo(3);
        assertThat(Files.exists(home.resolve("stack"))).isFalse();
    }

    @Test
    void commandsWithoutAStackOrWithBadFlagsSayWhatToDoInOneLine() {
        CliRun noStack = CliRun.of("generate", "--auctions", "10");
        assertThat(noStack.exitCode()).isEqualTo(2);
        assertThat(noStack.stderr().strip()).isEqualTo("ctr generate: no Kafka to write to: start the local stack with "
                + "'bin/ctr stack up' or pass --bootstrap-servers HOST:PORT");

        CliRun badRate = CliRun.of("generate", "--duplicate-rate", "7", "--bootstrap-servers", "127.0.0.1:1");
        assertThat(badRate.exitCode()).isEqualTo(2);
        assertThat(badRate.stderr().strip()).isEqualTo("ctr generate: duplicate click rate must be a probability in [0, 1], got 7.0");

        CliRun unknownFormat = CliRun.of("replay", "--format", "csv", "x.csv");
        assertThat(unknownFormat.exitCode()).isEqualTo(2);
        assertThat(unknownFormat.stderr()).contains("--format").contains("ipinyou, mind");

        CliRun badBackend = CliRun.of("bench", "e2e", "--flink", "state.backend.type=rocksbd");
        assertThat(badBackend.exitCode()).isEqualTo(2);
        assertThat(badBackend.stderr().strip()).isEqualTo("ctr bench e2e: --flink: Cannot find configured state backend "
                + "factory class: rocksbd (state.backend.type: hashmap or rocksdb)");
        CliRun joinsBackendByFlink = CliRun.of("bench", "joins", "--flink", "state.backend.type=rocksdb");
        assertThat(joinsBackendByFlink.exitCode()).isEqualTo(2);
        assertThat(joinsBackendByFlink.stderr().strip())
                .isEqualTo("ctr bench joins: --flink state.backend.type: use --state-backend hashmap, rocksdb or both");
        CliRun runBadBackend = CliRun.of("run", "--flink", "state.backend.type=rocksbd");
        assertThat(runBadBackend.exitCode()).isEqualTo(2);
        assertThat(runBadBackend.stderr().strip()).isEqualTo("ctr run: --flink: Cannot find configured state backend "
                + "factory class: rocksbd (state.backend.type: hashmap or rocksdb)");
        CliRun boundedWithFlink = CliRun.of("run", "--bounded", "--flink", "state.backend.type=rocksdb",
                "--bootstrap-servers", "127.0.0.1:1", "--redis", "redis://127.0.0.1:1");
        assertThat(boundedWithFlink.exitCode()).isEqualTo(2);
        assertThat(boundedWithFlink.stderr().strip())
                .isEqualTo("ctr run: --flink is for the unbounded job: drop --bounded or --flink");

        for (String command : List.of("stack", "generate", "replay")) {
            CliRun help = CliRun.of(command, "--help");
            assertThat(help.exitCode()).isZero();
            assertThat(help.stdout()).startsWith("Usage: ctr " + command);
        }
    }
}
