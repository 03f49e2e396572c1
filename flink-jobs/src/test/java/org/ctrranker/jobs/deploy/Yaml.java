package org.ctrranker.jobs.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Multi-document YAML into Jackson trees, the form both validators and the renderer work on. */
final class Yaml {

    static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory())
            // A duplicated key in a manifest is an error for kubectl too; never let the last one win silently.
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Yaml() {}

    /** Every non-empty document of a file, each an object (a Kubernetes resource or a kustomize file). */
    static List<ObjectNode> readAll(Path file) {
        List<ObjectNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> iterator = MAPPER.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (iterator.hasNext()) {
                JsonNode document = iterator.next();
                if (document == null || document.isNull() || document.isMissingNode()) {
                    continue;
                }
                if (!document.isObject()) {
                    throw new IllegalArgumentException(file + ": a document is not a mapping");
                }
                documents.add((ObjectNode) document);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file, e);
        }
        return documents;
    }

    static ObjectNode readSingle(Path file) {
        JsonNode node = readSingleNode(file);
        if (!node.isObject()) {
            throw new IllegalArgumentException(file + ": expected a mapping");
        }
        return (ObjectNode) node;
    }

    /** One document that may also be a list (a JSON 6902 patch). */
    static JsonNode readSingleNode(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file, e);
        }
    }
}
