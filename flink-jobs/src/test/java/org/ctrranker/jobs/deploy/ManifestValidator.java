package org.ctrranker.jobs.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates rendered manifests offline: custom resources against their CRD schema (plus their ObjectMeta),
 * built-in kinds and the PodMonitor with the Kubernetes model. A kind neither knows is itself a problem, so
 * nothing reaches a cluster unvalidated.
 */
final class ManifestValidator {

    private final CrdSchemaValidator crdSchemas;

    ManifestValidator(Path crdDirectory) {
        this.crdSchemas = CrdSchemaValidator.fromDirectory(crdDirectory);
    }

    /** Problems of all resources, each prefixed with the resource it belongs to; empty when all are valid. */
    List<String> validate(List<? extends JsonNode> resources) {
        List<String> problems = new ArrayList<>();
        for (JsonNode resource : resources) {
            String id = resource.path("kind").asText() + "/" + KustomizeRenderer.name(resource);
            validate(resource).forEach(problem -> problems.add(id + ": " + problem));
        }
        return problems;
    }

    List<String> validate(JsonNode resource) {
        if (crdSchemas.knows(resource)) {
            List<String> problems = new ArrayList<>(crdSchemas.validate(resource));
            problems.addAll(CoreKindValidator.validateObjectMeta(resource));
            return problems;
        }
        if (CoreKindValidator.knows(resource)) {
            return CoreKindValidator.validate(resource);
        }
        return List.of("no CRD schema or Kubernetes model for " + resource.path("apiVersion").asText() + " "
                + resource.path("kind").asText());
    }
}
