package org.ctrranker.jobs.deploy;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/** Where the deployment files are, and typed access to the pieces the tests compare. */
final class DeployLayout {

    /** The overlays users deploy; each must render and validate on its own. */
    static final List<String> OVERLAYS = List.of("cpu", "gpu", "local");

    private DeployLayout() {}

    /** The reactor root: the build passes it as ctr.root; from an IDE the module folder's parent. */
    static Path root() {
        String configured = System.getProperty("ctr.root");
        Path root = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath().getParent();
        if (!Files.isDirectory(root.resolve("k8s"))) {
            throw new IllegalStateException("no k8s/ under " + root + "; run from the reactor (ctr.root)");
        }
        return root;
    }

    static Path k8s() {
        return root().resolve("k8s");
    }

    /** The CRD schemas beside the checkout; tests that need them skip where shared/ is not there. */
    static Path crdDirectoryOrSkip() {
        Path crds = root().resolve("../shared/k8s-crds").normalize();
        assumeTrue(Files.isDirectory(crds), "no CRD schemas at " + crds + " (../shared is not beside this checkout)");
        return crds;
    }

    static List<ObjectNode> render(String overlay) {
        return KustomizeRenderer.render(k8s().resolve("overlays").resolve(overlay));
    }

    static ObjectNode find(List<ObjectNode> resources, String kind, String name) {
        return resources.stream()
                .filter(r -> r.path("kind").asText().equals(kind) && KustomizeRenderer.name(r).equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " in the rendered manifests"));
    }

    static List<ObjectNode> all(List<ObjectNode> resources, String kind) {
        return resources.stream().filter(r -> r.path("kind").asText().equals(kind)).toList();
    }

    /** The job's configuration keys and defaults, the file the job itself loads first. */
    static Properties jobDefaults() {
        return properties(root().resolve("flink-jobs/src/main/resources/ctr-ranker-defaults.properties"));
    }

    static Properties properties(Path file) {
        return parseProperties(DeployLayout.readText(file));
    }

    static Properties parseProperties(String text) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }

    /** A file's text, or an unchecked exception naming the file. */
    static String readText(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static String text(JsonNode node, String pointer) {
        JsonNode value = node.at(pointer);
        if (value.isMissingNode() || value.isNull()) {
            throw new AssertionError("no " + pointer + " in " + node.path("kind").asText() + "/" + KustomizeRenderer.name(node));
        }
        return value.asText();
    }
}
