package org.ctrranker.jobs.live;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds retained checkpoints in a checkpoint directory laid out as Flink writes it:
 * {@code <dir>/<job id>/chk-<n>/_metadata}. A checkpoint is complete once its {@code _metadata}
 * exists (Flink writes it last), so half-written ones are never picked.
 */
public final class Checkpoints {

    private static final String METADATA = "_metadata";

    private Checkpoints() {}

    /** The newest complete checkpoint under {@code dir} (by the time its metadata was written), if any. */
    public static Optional<Path> latestComplete(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> jobs = Files.list(dir)) {
            return jobs.filter(Files::isDirectory)
                    .flatMap(Checkpoints::checkpointsOf)
                    .filter(chk -> Files.isRegularFile(chk.resolve(METADATA)))
                    .max(Comparator.comparingLong(Checkpoints::metadataTime).thenComparingLong(Checkpoints::number));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    private static Stream<Path> checkpointsOf(Path jobDir) {
        try (Stream<Path> entries = Files.list(jobDir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("chk-")).toList().stream();
        } catch (IOException e) {
            return Stream.empty();
        }
    }

    private static long metadataTime(Path chk) {
        try {
            return Files.getLastModifiedTime(chk.resolve(METADATA)).toMillis();
        } catch (IOException e) {
            return Long.MIN_VALUE;
        }
    }

    private static long number(Path chk) {
        try {
            return Long.parseLong(chk.getFileName().toString().substring("chk-".length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
