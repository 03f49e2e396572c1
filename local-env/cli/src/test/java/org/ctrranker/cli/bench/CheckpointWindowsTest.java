package org.ctrranker.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointWindowsTest {

    @Test
    void anAuctionCountsAsDuringACheckpointFromItsTriggerToItsCompletionGiveOrTakeTheMargin() {
        List<CheckpointWindows.Window> windows =
                List.of(new CheckpointWindows.Window(10_000, 10_400, -1), new CheckpointWindows.Window(20_000, 20_050, -1));
        assertThat(CheckpointWindows.during(windows, 9_899, 100)).isFalse();
        assertThat(CheckpointWindows.during(windows, 9_900, 100)).isTrue();
        assertThat(CheckpointWindows.during(windows, 10_200, 100)).isTrue();
        assertThat(CheckpointWindows.during(windows, 10_500, 100)).isTrue();
        assertThat(CheckpointWindows.during(windows, 10_501, 100)).isFalse();
        assertThat(CheckpointWindows.during(windows, 20_120, 100)).isTrue();
        assertThat(CheckpointWindows.during(List.of(), 10_000, 100)).isFalse();
    }

    @Test
    void aCheckpointFolderOpensAWindowAndItsMetadataClosesIt(@TempDir Path dir) throws Exception {
        Path job = Files.createDirectories(dir.resolve("6f1c2a"));
        Files.writeString(Files.createDirectories(job.resolve("chk-1")).resolve("_metadata"), "before watching");
        try (CheckpointWindows watching = CheckpointWindows.watch(dir)) {
            Thread.sleep(100);
            assertThat(watching.windows()).as("completed before watching began").isEmpty();
            Path chk = Files.createDirectories(job.resolve("chk-2"));
            Files.createDirectories(job.resolve("shared"));
            await(() -> watching.windows().size() == 1);
            // Still running: the window ends at the time it is read.
            long endNow = watching.windows().get(0).completedMs();
            Thread.sleep(30);
            assertThat(watching.windows().get(0).completedMs()).isGreaterThan(endNow);
            assertThat(watching.windows()).hasSize(1);
            assertThat(watching.windows().get(0).bytes()).as("not complete").isEqualTo(-1);

            Files.write(Files.createDirectories(chk.resolve("op")).resolve("state"), new byte[1000]);
            long beforeMetadata = System.currentTimeMillis();
            Files.writeString(chk.resolve("_metadata"), "done");
            await(() -> closed(watching));
            CheckpointWindows.Window window = watching.windows().get(0);
            assertThat(window.triggeredMs()).isLessThanOrEqualTo(beforeMetadata);
            assertThat(window.completedMs()).isGreaterThanOrEqualTo(beforeMetadata);
            assertThat(window.bytes()).as("its files, those in subfolders too").isEqualTo(1000 + "done".length());
            assertThat(watching.windows()).hasSize(1);
        }
    }

    private static boolean closed(CheckpointWindows watching) throws InterruptedException {
        long first = watching.windows().get(0).completedMs();
        Thread.sleep(30);
        return watching.windows().get(0).completedMs() == first;
    }

    private interface Condition {
        boolean holds() throws InterruptedException;
    }

    private static void await(Condition condition) throws InterruptedException {
        long until = System.currentTimeMillis() + 10_000;
        while (!condition.holds()) {
            assertThat(System.currentTimeMillis()).as("waited 10 s").isLessThan(until);
            Thread.sleep(10);
        }
    }
}
