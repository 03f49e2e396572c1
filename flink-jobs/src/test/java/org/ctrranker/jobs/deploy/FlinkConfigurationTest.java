package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.ctrranker.localenv.FlinkProcessCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The FlinkDeployment's flinkConfiguration is a free-form map in the CRD (x-kubernetes-preserve-unknown-fields),
 * so the schema cannot catch a misspelt Flink key or a wrong enum value there; Flink would ignore the first and
 * fail at start on the second. This checks every key against Flink's own ConfigOptions (flink-core 2.2.1, the
 * version the image runs) and parses every value with them. It also loads the lines the Dockerfile appends to
 * the image's config.yaml with Flink's own loader. Deprecated keys are reported with the key that replaces them.
 */
class FlinkConfigurationTest {

    /** Families of keys with a free suffix, which no single ConfigOption declares. */
    private static final List<String> KEY_FAMILIES = List.of(
            "containerized.master.env.", "containerized.taskmanager.env.", "metrics.reporter.",
            // The operator's own settings, read by the operator and not by Flink.
            "kubernetes.operator.");

    private static final Map<String, ConfigOption<?>> FLINK_OPTIONS = flinkCoreOptions();

    /** Every public ConfigOption constant of flink-core's *Options classes, by key and by fallback key. */
    private static Map<String, ConfigOption<?>> flinkCoreOptions() {
        Map<String, ConfigOption<?>> options = new HashMap<>();
        try (JarFile flinkCore = new JarFile(Path.of(CoreOptions.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toFile())) {
            for (String entry : flinkCore.stream().map(e -> e.getName()).toList()) {
                if (!entry.matches("org/apache/flink/configuration/[A-Za-z]+Options\\.class")) {
                    continue;
                }
                Class<?> optionsClass = Class.forName(entry.replace('/', '.').replace(".class", ""));
                for (Field field : optionsClass.getFields()) {
                    if (Modifier.isStatic(field.getModifiers()) && ConfigOption.class.isAssignableFrom(field.getType())) {
                        ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                        options.put(option.key(), option);
                        for (FallbackKey fallback : option.fallbackKeys()) {
                            options.putIfAbsent(fallback.getKey(), option);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ReflectiveOperationException | URISyntaxException e) {
            throw new IllegalStateException("cannot read flink-core's ConfigOptions", e);
        }
        return options;
    }

    /** Problems of a flinkConfiguration map: unknown keys, unparseable values, reporters without a factory. */
    static List<String> problems(JsonNode flinkConfiguration) {
        Map<String, String> values = new LinkedHashMap<>();
        flinkConfiguration.fields().forEachRemaining(entry -> values.put(entry.getKey(), entry.getValue().asText()));
        Configuration configuration = Configuration.fromMap(values);
        List<String> problems = new ArrayList<>();
        for (String key : values.keySet()) {
            ConfigOption<?> option = FLINK_OPTIONS.get(key);
            if (option != null && isDeprecatedKeyOf(option, key)) {
                // Still read by Flink 2.2, but the next release may drop it: say which key replaces it.
                problems.add(key + ": deprecated, use " + option.key());
            } else if (option != null) {
                try {
                    configuration.get(option);
                } catch (RuntimeException e) {
                    problems.add(key + ": value '" + values.get(key) + "' does not parse: " + e.getMessage());
                }
            } else if (KEY_FAMILIES.stream().noneMatch(key::startsWith)) {
                problems.add(key + ": not a Flink 2.2 configuration option");
            }
        }
        Pattern reporter = Pattern.compile("metrics\\.reporter\\.([^.]+)\\..*");
        values.keySet().stream().map(reporter::matcher).filter(Matcher::matches).map(m -> m.group(1)).distinct()
                .filter(name -> !values.containsKey("metrics.reporter." + name + ".factory.class"))
                .forEach(name -> problems.add("metrics.reporter." + name + ": no factory.class"));
        return problems;
    }

    private static boolean isDeprecatedKeyOf(ConfigOption<?> option, String key) {
        for (FallbackKey fallback : option.fallbackKeys()) {
            if (fallback.getKey().equals(key)) {
                return fallback.isDeprecated();
            }
        }
        return false;
    }

    private static ObjectNode flinkConfiguration(String overlay) {
        return (ObjectNode) DeployLayout.find(DeployLayout.render(overlay), "FlinkDeployment", "ctr-ranker")
                .at("/spec/flinkConfiguration");
    }

    @ParameterizedTest
    @FieldSource("org.ctrranker.jobs.deploy.DeployLayout#OVERLAYS")
    void everyFlinkConfigurationKeyIsAFlinkOptionWithAValidValue(String overlay) {
        assertThat(problems(flinkConfiguration(overlay))).isEmpty();
    }

    /**
     * Flink's own memory model, as the operator applies it: resource.memory becomes the process size, and Flink
     * derives the pools from it at pod start, failing the pod when they do not add up. The task heap is what
     * is left after DJL's reserved off-heap memory, network buffers and RocksDB's managed memory; the job's
     * Kafka clients, micro-batches and state access need at least half a gigabyte of it per TaskManager.
     */
    @ParameterizedTest
    @FieldSource("org.ctrranker.jobs.deploy.DeployLayout#OVERLAYS")
    void memoryOfJobManagerAndTaskManagersAddsUp(String overlay) {
        ObjectNode deployment = DeployLayout.find(DeployLayout.render(overlay), "FlinkDeployment", "ctr-ranker");
        Map<String, String> values = new LinkedHashMap<>();
        deployment.at("/spec/flinkConfiguration").fields().forEachRemaining(entry -> values.put(entry.getKey(), entry.getValue().asText()));
        values.put(TaskManagerOptions.TOTAL_PROCESS_MEMORY.key(), deployment.at("/spec/taskManager/resource/memory").asText());
        values.put(JobManagerOptions.TOTAL_PROCESS_MEMORY.key(), deployment.at("/spec/jobManager/resource/memory").asText());
        Configuration configuration = Configuration.fromMap(values);

        TaskExecutorProcessSpec taskManager = TaskExecutorProcessUtils.processSpecFromConfig(configuration);
        JobManagerProcessSpec jobManager = JobManagerProcessUtils.processSpecFromConfig(configuration);

        assertThat(taskManager.getTaskHeapSize().getMebiBytes()).as("task heap (MiB)").isGreaterThanOrEqualTo(512);
        assertThat(taskManager.getTaskOffHeapSize().getMebiBytes()).as("off-heap reserved for libtorch (MiB)").isGreaterThanOrEqualTo(512);
        assertThat(jobManager.getJvmHeapMemorySize().getMebiBytes()).as("JobManager heap (MiB)").isGreaterThanOrEqualTo(512);
    }

    /**
     * The operator writes the pods' config.yaml from flinkConfiguration, so env.java.opts.all there replaces the
     * image's, which holds the module options Flink cannot run without on Java 17.
     */
    @ParameterizedTest
    @FieldSource("org.ctrranker.jobs.deploy.DeployLayout#OVERLAYS")
    void jvmOptionsKeepJava17ModuleOptionsAndDjlOffline(String overlay) {
        List<String> options = List.of(flinkConfiguration(overlay).get("env.java.opts.all").asText().trim().split("\\s+"));
        assertThat(options).containsAll(FlinkProcessCluster.JAVA17_OPTIONS).contains("-Dai.djl.offline=true");
    }

    @Test
    void aMisspeltKeyAndAWrongEnumValueAreCaught() {
        ObjectNode configuration = flinkConfiguration("cpu").deepCopy();
        configuration.set("high-availability.storagedir", configuration.remove("high-availability.storageDir"));
        configuration.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELATION");
        configuration.put("taskmanager.memory.task.off-heap.size", "768 megs");
        configuration.set("state.backend.incremental", configuration.remove("execution.checkpointing.incremental"));

        assertThat(problems(configuration)).hasSize(4)
                .anySatisfy(problem -> assertThat(problem).isEqualTo("state.backend.incremental: deprecated, use execution.checkpointing.incremental"))
                .anySatisfy(problem -> assertThat(problem).startsWith("high-availability.storagedir: not a Flink"))
                .anySatisfy(problem -> assertThat(problem).startsWith("execution.checkpointing.externalized-checkpoint-retention: value 'RETAIN_ON_CANCELATION'"))
                .anySatisfy(problem -> assertThat(problem).startsWith("taskmanager.memory.task.off-heap.size: value '768 megs'"));
    }

    @Test
    void imageConfigLinesLoadWithFlinksLoaderAndKeepTheJava17Options(@TempDir Path conf) throws IOException {
        // The shape of the official image's config.yaml: nested keys, Java 17's module options in env.java.opts.all.
        String stockExcerpt = """
                env:
                  java:
                    opts:
                      all: --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
                taskmanager:
                  numberOfTaskSlots: 1
                """;
        Files.writeString(conf.resolve("config.yaml"), stockExcerpt + String.join("\n", appendedConfigLines()) + "\n");

        Configuration loaded = GlobalConfiguration.loadConfiguration(conf.toString());

        assertThat(loaded.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL)).containsExactly("ai.djl.");
        assertThat(loaded.get(CoreOptions.FLINK_JVM_OPTIONS)).contains("--add-opens=java.base/java.lang=ALL-UNNAMED");
        assertThat(loaded.get(CoreOptions.FLINK_TM_JVM_OPTIONS)).contains("-Dai.djl.offline=true");
        assertThat(loaded.get(CoreOptions.FLINK_JM_JVM_OPTIONS)).contains("-Dai.djl.offline=true");
    }

    /** The quoted lines of the Dockerfile's {@code printf '%s\n' '...' ... >> .../config.yaml}. */
    private static List<String> appendedConfigLines() {
        Dockerfile dockerfile = Dockerfile.parse(DeployLayout.k8s().resolve("image/Dockerfile"));
        String run = dockerfile.all("RUN").stream().filter(r -> r.contains("conf/config.yaml")).findFirst()
                .orElseThrow(() -> new AssertionError("the Dockerfile appends nothing to config.yaml"));
        Matcher quoted = Pattern.compile("'([^']*)'").matcher(run.substring(run.indexOf("printf")));
        List<String> lines = new ArrayList<>();
        while (quoted.find()) {
            lines.add(quoted.group(1));
        }
        return lines.subList(1, lines.size()); // the first quoted string is printf's format
    }
}
