package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.assertj.core.api.ListAssert;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Proves the validation bites: each test plants one mistake into an in-memory copy of a real rendered manifest
 * (the GPU overlay, the one with most fields) and expects a failure that names the field. A validator that
 * accepts everything fails here.
 */
class PlantedMistakeTest {

    private static ManifestValidator validator;
    private static List<ObjectNode> rendered;

    @BeforeAll
    static void renderAndLoadSchemas() {
        validator = new ManifestValidator(DeployLayout.crdDirectoryOrSkip());
        rendered = DeployLayout.render("gpu");
    }

    /** The validation problems of a copy of one rendered resource after planting a mistake in it. */
    private static ListAssert<String> problemsAfter(String kind, String name, Consumer<ObjectNode> plant) {
        ObjectNode copy = DeployLayout.find(rendered, kind, name).deepCopy();
        plant.accept(copy);
        return assertThat(validator.validate(copy)).as("problems of %s/%s", kind, name);
    }

    /** Renames a field, the way a typo does. */
    private static void misspell(JsonNode parent, String field, String typo) {
        ObjectNode object = (ObjectNode) parent;
        object.set(typo, object.remove(field));
    }

    private static void put(JsonNode parent, String field, String value) {
        ((ObjectNode) parent).put(field, value);
    }

    @Test
    void theUnmodifiedManifestsAreValid() {
        for (String[] id : new String[][] {{"FlinkDeployment", "ctr-ranker"}, {"KafkaTopic", "ad-clicks"},
                {"Kafka", "ctr-kafka"}, {"KafkaNodePool", "dual-role"}, {"StatefulSet", "ctr-redis"},
                {"PodMonitor", "ctr-ranker-flink"}}) {
            problemsAfter(id[0], id[1], resource -> {}).isEmpty();
        }
    }

    @Test
    void misspeltFlinkDeploymentFieldFails() {
        problemsAfter("FlinkDeployment", "ctr-ranker", d -> misspell(d.at("/spec/job"), "upgradeMode", "upgradeMod"))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.job.upgradeMod").contains("unknown field"));
    }

    @Test
    void wrongUpgradeModeEnumFails() {
        problemsAfter("FlinkDeployment", "ctr-ranker", d -> put(d.at("/spec/job"), "upgradeMode", "savepoints"))
                .anySatisfy(problem -> assertThat(problem)
                        .contains("$.spec.job.upgradeMode").contains("enumeration").contains("savepoint"));
    }

    @Test
    void unknownFlinkVersionFails() {
        problemsAfter("FlinkDeployment", "ctr-ranker", d -> put(d.get("spec"), "flinkVersion", "v2_2_1"))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.flinkVersion").contains("enumeration"));
    }

    @Test
    void misspeltFieldDeepInsideThePodTemplateFails() {
        problemsAfter("FlinkDeployment", "ctr-ranker",
                d -> misspell(d.at("/spec/podTemplate/spec/containers/0/volumeMounts/0"), "mountPath", "mountpath"))
                .anySatisfy(problem -> assertThat(problem)
                        .contains("$.spec.podTemplate.spec.containers[0].volumeMounts[0].mountpath").contains("unknown field"));
    }

    @Test
    void stringWhereTheSchemaWantsAnIntegerFails() {
        problemsAfter("FlinkDeployment", "ctr-ranker", d -> put(d.at("/spec/job"), "parallelism", "4"))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.job.parallelism").contains("integer"));
    }

    @Test
    void flinkConfigurationPreservesUnknownKeysAsTheCrdSays() {
        problemsAfter("FlinkDeployment", "ctr-ranker", d -> put(d.at("/spec/flinkConfiguration"), "any.flink.option", "value"))
                .isEmpty();
    }

    @Test
    void misspeltKafkaTopicFieldFails() {
        problemsAfter("KafkaTopic", "ad-clicks", t -> misspell(t.get("spec"), "partitions", "partition"))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.partition").contains("unknown field"));
    }

    @Test
    void kafkaTopicPartitionsBelowTheMinimumFail() {
        problemsAfter("KafkaTopic", "ad-clicks", t -> ((ObjectNode) t.get("spec")).put("partitions", 0))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.partitions").contains("minimum"));
    }

    @Test
    void wrongListenerTypeEnumFails() {
        problemsAfter("Kafka", "ctr-kafka", k -> put(k.at("/spec/kafka/listeners/0"), "type", "internl"))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.kafka.listeners[0].type").contains("enumeration"));
    }

    @Test
    void wrongNodePoolRoleEnumFails() {
        problemsAfter("KafkaNodePool", "dual-role", p -> ((ArrayNode) p.at("/spec/roles")).set(1, "brokers"))
                .anySatisfy(problem -> assertThat(problem).contains("$.spec.roles[1]").contains("enumeration"));
    }

    @Test
    void misspeltCustomResourceMetadataFails() {
        problemsAfter("KafkaTopic", "ad-clicks", t -> misspell(t.get("metadata"), "labels", "label"))
                .anySatisfy(problem -> assertThat(problem).contains("$.metadata.label").contains("unknown field"));
    }

    @Test
    void misspeltStatefulSetFieldFails() {
        problemsAfter("StatefulSet", "ctr-redis",
                s -> misspell(s.at("/spec/template/spec/containers/0"), "readinessProbe", "readinesProbe"))
                .anySatisfy(problem -> assertThat(problem)
                        .contains("spec.template.spec.containers[0].readinesProbe").contains("unknown field"));
    }

    @Test
    void invalidResourceQuantityFails() {
        problemsAfter("StatefulSet", "ctr-redis", s -> put(s.at("/spec/template/spec/containers/0/resources/limits"), "memory", "2GB"))
                .anySatisfy(problem -> assertThat(problem).contains("limits.memory").contains("2GB"));
    }

    @Test
    void misspeltPodMonitorFieldFails() {
        problemsAfter("PodMonitor", "ctr-ranker-flink", m -> misspell(m.get("spec"), "podMetricsEndpoints", "podMetricsEndpoint"))
                .anySatisfy(problem -> assertThat(problem).contains("spec.podMetricsEndpoint").contains("unknown field"));
    }

    @Test
    void aKindWithoutSchemaOrModelIsRejected() {
        problemsAfter("Service", "ctr-redis", s -> s.put("apiVersion", "example.com/v1").put("kind", "Unvalidated"))
                .singleElement().asString().contains("no CRD schema or Kubernetes model");
    }
}
