package org.ctrranker.jobs.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The public data sets in ../shared/data beside the checkout; tests skip when they are absent. */
public final class SharedData {

    private SharedData() {}

    public static Path file(String relative) {
        String root = System.getProperty("ctr.root", System.getProperty("user.dir"));
        Path path = Path.of(root).resolve("../shared/data").resolve(relative).normalize();
        assumeTrue(Files.isReadable(path), "shared data missing: " + path);
        return path;
    }
}
