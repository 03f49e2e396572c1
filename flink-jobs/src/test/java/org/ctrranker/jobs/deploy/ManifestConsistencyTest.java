package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The manifests agree with each other and with the job: what the job is told (its ConfigMap and arguments) names
 * topics, services and ports that the manifests really create, and every reference between resources resolves.
 * A schema-valid stack can still fail at run time on any of these; none needs a cluster to check.
 */
class ManifestConsistencyTest {

    static final List<String> OVERLAYS = DeployLayout.OVERLAYS;

    /** The job's configuration as the pods get it: defaults, then the ConfigMap file, then --set arguments. */
    private static Properties effectiveJobConfig(List<ObjectNode> resources) {
        Properties config = new Properties();
        config.putAll(DeployLayout.jobDefaults());
        config.putAll(configMapProperties(resources));
        config.putAll(setArguments(resources));
        return config;
    }

    private static Properties configMapProperties(List<ObjectNode> resources) {
        ObjectNode configMap = DeployLayout.find(resources, "ConfigMap", "ctr-ranker-job-config");
        return DeployLayout.parseProperties(DeployLayout.text(configMap, "/data/ctr-ranker.properties"));
    }

    private static ObjectNode flinkDeployment(List<ObjectNode> resources) {
        return DeployLayout.find(resources, "FlinkDeployment", "ctr-ranker");
    }

    private static List<String> jobArgs(List<ObjectNode> resources) {
        return StreamSupport.stream(flinkDeployment(resources).at("/spec/job/args").spliterator(), false)
                .map(JsonNode::asText)
                .toList();
    }

    /** The {@code --set key=value} overrides that overlays append to the job's arguments. */
    private static Map<String, String> setArguments(List<ObjectNode> resources) {
        List<String> args = jobArgs(resources);
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("--set")) {
                String assignment = args.get(i + 1);
                assertThat(assignment).as("--set argument").contains("=");
                overrides.put(assignment.substring(0, assignment.indexOf('=')), assignment.substring(assignment.indexOf('=') + 1));
            }
        }
        return overrides;
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyJobConfigKeyTheDeploymentSetsIsAKeyTheJobKnows(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        Set<String> known = DeployLayout.jobDefaults().stringPropertyNames();

        assertThat(configMapProperties(resources).stringPropertyNames()).isNotEmpty().isSubsetOf(known);
        assertThat(setArguments(resources).keySet()).isSubsetOf(known);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void jobConfigValuesKeepTheTypeOfTheirDefaults(String overlay) {
        Properties defaults = DeployLayout.jobDefaults();
        Properties config = effectiveJobConfig(DeployLayout.render(overlay));

        for (String key : config.stringPropertyNames()) {
            if (defaults.getProperty(key).matches("-?\\d+")) {
                assertThat(config.getProperty(key)).as(key + " is a number").matches("-?\\d+");
            }
        }
        assertThat(config.getProperty("ctr.model.device")).isIn("auto", "cpu", "gpu");
        assertThat(config.getProperty("ctr.attribution.delayed-feedback-mode")).isIn("wait-window", "fake-negative");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void topicsTheJobUsesAreExactlyTheKafkaTopicsCreated(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        Properties config = effectiveJobConfig(resources);
        Set<String> jobTopics = config.stringPropertyNames().stream()
                .filter(key -> key.startsWith("ctr.topic."))
                .map(config::getProperty)
                .collect(Collectors.toSet());
        Set<String> createdTopics = DeployLayout.all(resources, "KafkaTopic").stream()
                .map(topic -> topic.at("/spec/topicName").isMissingNode()
                        ? KustomizeRenderer.name(topic) : topic.at("/spec/topicName").asText())
                .collect(Collectors.toSet());

        assertThat(jobTopics).hasSize(6)
                .containsExactlyInAnyOrder("ad-auctions", "ad-impressions", "ad-clicks", "training-samples", "ctr-scores", "dead-letters");
        assertThat(createdTopics).isEqualTo(jobTopics);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void kafkaBootstrapIsTheStrimziBootstrapServiceOfThePlainListener(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        ObjectNode kafka = DeployLayout.all(resources, "Kafka").get(0);
        JsonNode plain = StreamSupport.stream(kafka.at("/spec/kafka/listeners").spliterator(), false)
                .filter(listener -> !listener.path("tls").asBoolean() && listener.path("type").asText().equals("internal"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("Kafka has no internal plain listener"));

        assertThat(effectiveJobConfig(resources).getProperty("ctr.kafka.bootstrap-servers"))
                .isEqualTo(KustomizeRenderer.name(kafka) + "-kafka-bootstrap:" + plain.path("port").asInt());
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyKafkaTopicAndNodePoolBelongsToTheKafkaCluster(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        String cluster = KustomizeRenderer.name(DeployLayout.all(resources, "Kafka").get(0));

        for (String kind : List.of("KafkaTopic", "KafkaNodePool")) {
            assertThat(DeployLayout.all(resources, kind)).isNotEmpty().allSatisfy(resource ->
                    assertThat(resource.at("/metadata/labels/strimzi.io~1cluster").asText())
                            .as(kind + "/" + KustomizeRenderer.name(resource)).isEqualTo(cluster));
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void transactionTimeoutFitsTheBrokersMaximum(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        ObjectNode kafka = DeployLayout.all(resources, "Kafka").get(0);
        // Kafka's own default when the cluster does not set it.
        long brokerMaximum = kafka.at("/spec/kafka/config/transaction.max.timeout.ms").asLong(900_000);
        long jobTimeout = Long.parseLong(effectiveJobConfig(resources).getProperty("ctr.kafka.transaction-timeout-ms"));

        assertThat(jobTimeout).isPositive().isLessThanOrEqualTo(brokerMaximum).isLessThanOrEqualTo(900_000);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void replicationFitsTheNumberOfBrokers(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        int brokers = DeployLayout.all(resources, "KafkaNodePool").stream()
                .filter(pool -> StreamSupport.stream(pool.at("/spec/roles").spliterator(), false)
                        .anyMatch(role -> role.asText().equals("broker")))
                .mapToInt(pool -> pool.at("/spec/replicas").asInt())
                .sum();
        JsonNode kafkaConfig = DeployLayout.all(resources, "Kafka").get(0).at("/spec/kafka/config");
        int defaultMinIsr = kafkaConfig.path("min.insync.replicas").asInt(1);

        assertThat(brokers).isPositive();
        for (String key : List.of("default.replication.factor", "offsets.topic.replication.factor", "transaction.state.log.replication.factor")) {
            // Kafka's defaults are 1 and 3; an unset factor on fewer than 3 brokers is the classic silent failure.
            assertThat(kafkaConfig.path(key).asInt(key.equals("default.replication.factor") ? 1 : 3)).as(key).isBetween(1, brokers);
        }
        assertThat(kafkaConfig.path("transaction.state.log.min.isr").asInt(2))
                .isLessThanOrEqualTo(kafkaConfig.path("transaction.state.log.replication.factor").asInt(3));
        for (ObjectNode topic : DeployLayout.all(resources, "KafkaTopic")) {
            int replicas = topic.at("/spec/replicas").asInt();
            int minIsr = topic.at("/spec/config/min.insync.replicas").asInt(defaultMinIsr);
            assertThat(replicas).as(KustomizeRenderer.name(topic) + " replicas").isBetween(1, brokers);
            assertThat(minIsr).as(KustomizeRenderer.name(topic) + " min.insync.replicas").isBetween(1, replicas);
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void inputTopicsOutliveTheAttributionWindowAndHaveAPartitionPerSubtask(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        Properties config = effectiveJobConfig(resources);
        long attributionWindow = Long.parseLong(config.getProperty("ctr.attribution.window-ms"));
        int parallelism = flinkDeployment(resources).at("/spec/job/parallelism").asInt();

        for (String key : List.of("ctr.topic.auctions", "ctr.topic.impressions", "ctr.topic.clicks")) {
            ObjectNode topic = DeployLayout.find(resources, "KafkaTopic", config.getProperty(key));
            assertThat(topic.at("/spec/config/retention.ms").asLong()).as(key + " retention").isGreaterThan(attributionWindow);
            assertThat(topic.at("/spec/partitions").asInt()).as(key + " partitions").isGreaterThanOrEqualTo(parallelism);
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void redisUrlPointsAtTheRedisServiceAndItsPort(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        URI redis = URI.create(effectiveJobConfig(resources).getProperty("ctr.redis.url"));
        ObjectNode service = DeployLayout.find(resources, "Service", redis.getHost());
        ObjectNode statefulSet = DeployLayout.find(resources, "StatefulSet", "ctr-redis");
        JsonNode servicePort = StreamSupport.stream(service.at("/spec/ports").spliterator(), false)
                .filter(port -> port.path("port").asInt() == redis.getPort())
                .findFirst()
                .orElseThrow(() -> new AssertionError("Service " + redis.getHost() + " has no port " + redis.getPort()));
        JsonNode podLabels = statefulSet.at("/spec/template/metadata/labels");
        List<String> containerPortNames = new ArrayList<>();
        statefulSet.at("/spec/template/spec/containers/0/ports").forEach(port -> containerPortNames.add(port.path("name").asText()));

        assertThat(redis.getScheme()).isIn("redis", "rediss");
        assertThat(redis.getUserInfo()).as("password in the ConfigMap").isNull();
        service.at("/spec/selector").fields().forEachRemaining(selector ->
                assertThat(podLabels.path(selector.getKey()).asText()).as("selector " + selector.getKey()).isEqualTo(selector.getValue().asText()));
        assertThat(containerPortNames).contains(servicePort.path("targetPort").asText());
        assertThat(statefulSet.at("/spec/serviceName").asText()).satisfies(governing ->
                assertThat(DeployLayout.find(resources, "Service", governing).at("/spec/clusterIP").asText()).isEqualTo("None"));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void redisServerAndJobReadTheSamePasswordFromTheSecret(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        JsonNode redisPassword = envVar(DeployLayout.find(resources, "StatefulSet", "ctr-redis").at("/spec/template/spec/containers/0"), "REDIS_PASSWORD");
        JsonNode jobPassword = envVar(flinkDeployment(resources).at("/spec/podTemplate/spec/containers/0"), "CTR_REDIS_PASSWORD");

        assertThat(jobPassword.at("/valueFrom/secretKeyRef")).isEqualTo(redisPassword.at("/valueFrom/secretKeyRef")).isNotEmpty();
    }

    private static JsonNode envVar(JsonNode container, String name) {
        return StreamSupport.stream(container.path("env").spliterator(), false)
                .filter(env -> env.path("name").asText().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("container " + container.path("name").asText() + " has no env " + name));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void secretsInGitHoldNoValues(String overlay) {
        for (ObjectNode secret : DeployLayout.all(DeployLayout.render(overlay), "Secret")) {
            assertThat(secret.path("data").isEmpty() || secret.path("data").isMissingNode()).as("base64 data in git").isTrue();
            secret.path("stringData").fields().forEachRemaining(entry ->
                    assertThat(entry.getValue().asText()).as(KustomizeRenderer.name(secret) + "/" + entry.getKey()).isEmpty());
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyReferenceToAnotherResourceResolves(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        List<String> unresolved = new ArrayList<>();
        for (ObjectNode resource : resources) {
            collectReferences(resource, resources, unresolved, KustomizeRenderer.name(resource));
        }
        ObjectNode deployment = flinkDeployment(resources);
        if (DeployLayout.all(resources, "ServiceAccount").stream()
                .noneMatch(sa -> KustomizeRenderer.name(sa).equals(deployment.at("/spec/serviceAccount").asText()))) {
            unresolved.add("FlinkDeployment serviceAccount " + deployment.at("/spec/serviceAccount").asText());
        }

        assertThat(unresolved).isEmpty();
    }

    /** secretKeyRef, configMap volumes and PVC claims must name a resource (and key) the stack itself creates. */
    private static void collectReferences(JsonNode node, List<ObjectNode> resources, List<String> unresolved, String where) {
        if (node.isObject()) {
            if (node.has("secretKeyRef")) {
                JsonNode ref = node.get("secretKeyRef");
                ObjectNode secret = findOrNull(resources, "Secret", ref.path("name").asText());
                if (secret == null || !(secret.path("stringData").has(ref.path("key").asText()) || secret.path("data").has(ref.path("key").asText()))) {
                    unresolved.add(where + ": secretKeyRef " + ref);
                }
            }
            if (node.has("configMap") && node.get("configMap").has("name")
                    && findOrNull(resources, "ConfigMap", node.get("configMap").get("name").asText()) == null) {
                unresolved.add(where + ": configMap " + node.get("configMap"));
            }
            if (node.has("persistentVolumeClaim")
                    && findOrNull(resources, "PersistentVolumeClaim", node.get("persistentVolumeClaim").path("claimName").asText()) == null) {
                unresolved.add(where + ": persistentVolumeClaim " + node.get("persistentVolumeClaim"));
            }
        }
        node.forEach(child -> collectReferences(child, resources, unresolved, where));
    }

    private static ObjectNode findOrNull(List<ObjectNode> resources, String kind, String name) {
        return resources.stream()
                .filter(r -> r.path("kind").asText().equals(kind) && KustomizeRenderer.name(r).equals(name))
                .findFirst().orElse(null);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void jobReadsTheMountedConfigMapFile(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        JsonNode pod = flinkDeployment(resources).at("/spec/podTemplate/spec");
        List<String> args = jobArgs(resources);
        String configPath = args.get(args.indexOf("--config") + 1);
        String volumeName = StreamSupport.stream(pod.path("volumes").spliterator(), false)
                .filter(volume -> volume.at("/configMap/name").asText().equals("ctr-ranker-job-config"))
                .map(volume -> volume.path("name").asText())
                .findFirst().orElseThrow(() -> new AssertionError("the job's ConfigMap is not a pod volume"));
        String mountPath = StreamSupport.stream(pod.at("/containers/0/volumeMounts").spliterator(), false)
                .filter(mount -> mount.path("name").asText().equals(volumeName))
                .map(mount -> mount.path("mountPath").asText())
                .findFirst().orElseThrow(() -> new AssertionError("the job's ConfigMap volume is not mounted"));

        assertThat(args.get(0)).isEqualTo("--config");
        assertThat(configPath).isEqualTo(mountPath + "/ctr-ranker.properties");
        assertThat(DeployLayout.find(resources, "ConfigMap", "ctr-ranker-job-config").at("/data/ctr-ranker.properties").isTextual()).isTrue();
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void flinkDeploymentKeepsStateAcrossUpgradesAndFailures(String overlay) {
        ObjectNode deployment = flinkDeployment(DeployLayout.render(overlay));
        JsonNode flinkConfig = deployment.at("/spec/flinkConfiguration");
        Set<String> mountPaths = new HashSet<>();
        deployment.at("/spec/podTemplate/spec/containers/0/volumeMounts").forEach(mount -> mountPaths.add(mount.path("mountPath").asText()));

        assertThat(deployment.at("/spec/job/upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(flinkConfig.path("high-availability.type").asText()).isEqualTo("kubernetes");
        for (String key : List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir", "high-availability.storageDir")) {
            URI directory = URI.create(flinkConfig.path(key).asText());
            assertThat(directory.getScheme()).as(key).isIn("file", "s3", "s3p", "s3a", "gs", "abfss", "hdfs");
            if (directory.getScheme().equals("file")) {
                assertThat(mountPaths).as(key + " must be on the shared volume").anySatisfy(mount ->
                        assertThat(directory.getPath()).startsWith(mount + "/"));
            }
        }
        assertThat(Integer.parseInt(flinkConfig.path("pipeline.max-parallelism").asText()))
                .isGreaterThanOrEqualTo(deployment.at("/spec/job/parallelism").asInt());
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void djlLoadsOnceAndOffline(String overlay) {
        JsonNode flinkConfig = flinkDeployment(DeployLayout.render(overlay)).at("/spec/flinkConfiguration");

        assertThat(List.of(flinkConfig.path("classloader.parent-first-patterns.additional").asText().split("[;,]")))
                .contains("ai.djl.");
        assertThat(flinkConfig.path("env.java.opts.all").asText()).contains("-Dai.djl.offline=true");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void podMonitorScrapesTheFlinkPodsOnTheReporterPort(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        ObjectNode deployment = flinkDeployment(resources);
        ObjectNode podMonitor = DeployLayout.find(resources, "PodMonitor", "ctr-ranker-flink");
        JsonNode podLabels = deployment.at("/spec/podTemplate/metadata/labels");
        JsonNode metricsPort = StreamSupport.stream(deployment.at("/spec/podTemplate/spec/containers/0/ports").spliterator(), false)
                .filter(port -> port.path("name").asText().equals(podMonitor.at("/spec/podMetricsEndpoints/0/port").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no container port named like the PodMonitor's"));

        podMonitor.at("/spec/selector/matchLabels").fields().forEachRemaining(selector ->
                assertThat(podLabels.path(selector.getKey()).asText()).as(selector.getKey()).isEqualTo(selector.getValue().asText()));
        assertThat(metricsPort.path("containerPort").asText())
                .isEqualTo(deployment.at("/spec/flinkConfiguration/metrics.reporter.prom.port").asText());
        assertThat(deployment.at("/spec/flinkConfiguration/metrics.reporter.prom.factory.class").asText())
                .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void kafkaExporterIsEnabledAndScraped(String overlay) {
        List<ObjectNode> resources = DeployLayout.render(overlay);
        ObjectNode kafka = DeployLayout.all(resources, "Kafka").get(0);
        ObjectNode podMonitor = DeployLayout.find(resources, "PodMonitor", "ctr-kafka-exporter");

        assertThat(kafka.at("/spec/kafkaExporter").isObject()).isTrue();
        // Strimzi names the exporter's pods <cluster>-kafka-exporter and its metrics port tcp-prometheus.
        assertThat(podMonitor.at("/spec/selector/matchLabels/strimzi.io~1name").asText())
                .isEqualTo(KustomizeRenderer.name(kafka) + "-kafka-exporter");
        assertThat(podMonitor.at("/spec/podMetricsEndpoints/0/port").asText()).isEqualTo("tcp-prometheus");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyResourceIsLabelledAndInTheNamespace(String overlay) {
        for (ObjectNode resource : DeployLayout.render(overlay)) {
            String id = resource.path("kind").asText() + "/" + KustomizeRenderer.name(resource);
            assertThat(resource.at("/metadata/labels/app.kubernetes.io~1part-of").asText()).as(id).isEqualTo("ctr-ranker");
            assertThat(resource.at("/metadata/labels/app.kubernetes.io~1name").asText()).as(id).isNotEmpty();
            if (!resource.path("kind").asText().equals("Namespace")) {
                assertThat(resource.at("/metadata/namespace").asText()).as(id).isEqualTo("ctr-ranker");
            }
        }
    }
}
