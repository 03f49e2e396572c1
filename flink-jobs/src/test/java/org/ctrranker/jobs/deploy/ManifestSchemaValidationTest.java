package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Every manifest an overlay renders is valid for the API it targets: CRD schemas and the Kubernetes model. */
class ManifestSchemaValidationTest {

    private static ManifestValidator validator;

    @BeforeAll
    static void loadSchemas() {
        validator = new ManifestValidator(DeployLayout.crdDirectoryOrSkip());
    }

    @ParameterizedTest(name = "overlay {0}")
    @FieldSource("org.ctrranker.jobs.deploy.DeployLayout#OVERLAYS")
    void everyRenderedResourceValidates(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);

        assertThat(validator.validate(resources)).as("validation problems of overlay " + overlay).isEmpty();
    }

    @ParameterizedTest(name = "overlay {0}")
    @FieldSource("org.ctrranker.jobs.deploy.DeployLayout#OVERLAYS")
    void overlayRendersTheWholeStack(String overlay) {
        Set<String> kinds = DeployLayout.render(overlay).stream()
                .map(r -> r.path("kind").asText())
                .collect(Collectors.toSet());

        assertThat(kinds).contains("Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret",
                "PersistentVolumeClaim", "FlinkDeployment", "PodMonitor", "Kafka", "KafkaNodePool", "KafkaTopic",
                "Service", "StatefulSet");
    }

    @Test
    void baseAloneValidatesToo() {
        List<ObjectNode> resources = KustomizeRenderer.render(DeployLayout.k8s().resolve("base"));

        assertThat(validator.validate(resources)).isEmpty();
    }
}
