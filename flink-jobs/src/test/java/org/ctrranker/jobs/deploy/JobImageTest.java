package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * The image definitions (k8s/image) agree with the Maven build and with the manifests that run them: Flink and
 * project versions, where the job jar and DJL go, the DJL settings, and the GPU variant's libtorch. There is
 * no Docker engine in the build; these are the checks that can be made without one.
 */
class JobImageTest {

    private static final Dockerfile CPU = Dockerfile.parse(DeployLayout.k8s().resolve("image/Dockerfile"));
    private static final Dockerfile GPU = Dockerfile.parse(DeployLayout.k8s().resolve("image/Dockerfile.gpu"));

    /** A property of the root pom, e.g. flink.version, or the project's own version. */
    private static String rootPom(String element) {
        String pom = DeployLayout.readText(DeployLayout.root().resolve("pom.xml"));
        // The project's <version> is the first one at two-space indent; properties are at four.
        Matcher matcher = Pattern.compile("\n {2,4}<" + Pattern.quote(element) + ">([^<]+)</").matcher(pom);
        assertThat(matcher.find()).as("root pom has <" + element + ">").isTrue();
        return matcher.group(1).strip();
    }

    private static ObjectNode flinkDeployment(String overlay) {
        return DeployLayout.find(DeployLayout.render(overlay), "FlinkDeployment", "ctr-ranker");
    }

    @Test
    void baseImageIsTheOfficialFlinkImageOfTheBuildsFlinkVersionOnJava17() {
        String flinkVersion = rootPom("flink.version");

        assertThat(CPU.finalBaseImage()).isEqualTo("flink:" + flinkVersion + "-scala_2.12-java17");
    }

    @Test
    void flinkDeploymentDeclaresTheSameFlinkMinorVersion() {
        String[] flinkVersion = rootPom("flink.version").split("\\.");

        for (String overlay : DeployLayout.OVERLAYS) {
            assertThat(flinkDeployment(overlay).at("/spec/flinkVersion").asText())
                    .isEqualTo("v" + flinkVersion[0] + "_" + flinkVersion[1]);
        }
    }

    @Test
    void imageTagIsTheProjectVersionEverywhere() {
        String projectVersion = rootPom("version");

        assertThat(CPU.argDefaults()).containsEntry("CTR_VERSION", projectVersion);
        assertThat(GPU.argDefaults()).containsEntry("CTR_VERSION", projectVersion);
        assertThat(GPU.finalBaseImage()).isEqualTo("ctr-ranker-job:${CTR_VERSION}");
        assertThat(flinkDeployment("cpu").at("/spec/image").asText()).isEqualTo("ctr-ranker-job:" + projectVersion);
        assertThat(flinkDeployment("gpu").at("/spec/image").asText()).isEqualTo("ctr-ranker-job-gpu:" + projectVersion);
    }

    @Test
    void jobJarGoesToUsrlibWhereTheFlinkDeploymentLooksForIt() {
        String jarUri = flinkDeployment("cpu").at("/spec/job/jarURI").asText();

        assertThat(jarUri).startsWith("local:///opt/flink/usrlib/");
        assertThat(CPU.copies()).containsEntry("usrlib/ctr-ranker-job.jar", jarUri.substring("local://".length()));
        assertThat(flinkDeployment("cpu").at("/spec/job/entryClass").asText()).isEqualTo("org.ctrranker.jobs.CtrRankingJob");
    }

    @Test
    void djlJarsGoToFlinksLibNotIntoTheJobJar() {
        assertThat(CPU.copies()).containsEntry("lib/", "/opt/flink/lib/");
        String buildScript = DeployLayout.readText(DeployLayout.k8s().resolve("image/build-image.sh"));
        // The context's lib/ is the models module's runtime closure (DJL, the PyTorch engine, JNI and CPU natives).
        assertThat(buildScript).contains("-pl models dependency:copy-dependencies").contains("$context/lib")
                .contains("usrlib/ctr-ranker-job.jar");
        String jobPom = DeployLayout.readText(DeployLayout.root().resolve("flink-jobs/pom.xml"));
        assertThat(jobPom).contains("<shadedClassifierName>job</shadedClassifierName>")
                .contains("<exclude>ai.djl:*</exclude>").contains("<exclude>ai.djl.pytorch:*</exclude>");
    }

    @Test
    void imageTunesGlibcMallocAsTheLauncherDoes() {
        String launcher = DeployLayout.readText(DeployLayout.root().resolve("bin/ctr"));
        Matcher exported = Pattern.compile("(MALLOC_[A-Z_]+)=(\\d+)").matcher(launcher);
        Map<String, String> launcherValues = new LinkedHashMap<>();
        while (exported.find()) {
            launcherValues.put(exported.group(1), exported.group(2));
        }

        assertThat(launcherValues).containsOnlyKeys("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_");
        assertThat(CPU.env()).containsAllEntriesOf(launcherValues);
    }

    @Test
    void imageRunsDjlOfflineWithItsCacheOnTheVolumeThePodsMount() {
        String cacheDir = CPU.env().get("DJL_CACHE_DIR");
        JsonNode mounts = flinkDeployment("cpu").at("/spec/podTemplate/spec/containers/0/volumeMounts");

        assertThat(CPU.env()).containsEntry("DJL_OFFLINE", "true");
        assertThat(cacheDir).isNotBlank();
        assertThat(mounts.findValuesAsText("mountPath")).contains(cacheDir);
        String run = String.join("\n", CPU.all("RUN"));
        assertThat(run).contains("classloader.parent-first-patterns.additional: [\"ai.djl.\"]")
                .contains("-Dai.djl.offline=true")
                .contains("chown flink:flink " + cacheDir);
    }

    @Test
    void gpuImageAndOverlayPointDjlAtTheSameCudaLibtorch() {
        ObjectNode deployment = flinkDeployment("gpu");
        JsonNode flinkConfig = deployment.at("/spec/flinkConfiguration");
        String libraryPath = GPU.env().get("PYTORCH_LIBRARY_PATH");

        assertThat(libraryPath).isEqualTo("/opt/libtorch/lib");
        assertThat(flinkConfig.path("containerized.taskmanager.env.PYTORCH_LIBRARY_PATH").asText()).isEqualTo(libraryPath);
        assertThat(flinkConfig.path("containerized.taskmanager.env.PYTORCH_FLAVOR").asText()).isEqualTo(GPU.env().get("PYTORCH_FLAVOR"));
        assertThat(GPU.argDefaults().get("LIBTORCH_URL")).contains("2.7.1").contains("cu128");
        assertThat(GPU.copies()).containsEntry("/opt/libtorch", Path.of(libraryPath).getParent().toString());
    }

    @Test
    void gpuOverlayRequestsAGpuPerTaskManagerAndPinsTheDevice() {
        ObjectNode deployment = flinkDeployment("gpu");
        JsonNode taskManagerContainer = deployment.at("/spec/taskManager/podTemplate/spec/containers/0");

        assertThat(taskManagerContainer.path("name").asText()).isEqualTo("flink-main-container");
        assertThat(taskManagerContainer.at("/resources/limits/nvidia.com~1gpu").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(deployment.at("/spec/jobManager/podTemplate").isMissingNode()).as("the JobManager needs no GPU").isTrue();
        assertThat(argsOf(deployment)).containsSubsequence("--set", "ctr.model.device=gpu");
        assertThat(argsOf(flinkDeployment("cpu"))).containsSubsequence("--set", "ctr.model.device=cpu")
                .doesNotContain("ctr.model.device=gpu");
    }

    private static List<String> argsOf(ObjectNode deployment) {
        return StreamSupport.stream(deployment.at("/spec/job/args").spliterator(), false).map(JsonNode::asText).toList();
    }
}
