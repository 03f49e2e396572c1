package org.ctrranker.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The renderer does what kustomize does for the features k8s/ uses, and refuses the rest: a kustomization that
 * grows a feature it does not render must fail the build, not be validated in a shape kustomize never makes.
 */
class KustomizeRendererTest {

    @TempDir
    Path dir;

    private void write(String file, String text) throws IOException {
        Files.createDirectories(dir.resolve(file).getParent());
        Files.writeString(dir.resolve(file), text);
    }

    private void writeBase() throws IOException {
        write("base/kustomization.yaml", """
                namespace: team
                labels:
                  - pairs: {app.kubernetes.io/part-of: demo}
                resources: [app.yaml]
                images:
                  - {name: app, newTag: "1.0"}
                configurations: [image-fields.yaml]
                """);
        write("base/image-fields.yaml", """
                images:
                  - {kind: FlinkDeployment, path: spec/image}
                """);
        write("base/app.yaml", """
                apiVersion: flink.apache.org/v1beta1
                kind: FlinkDeployment
                metadata: {name: job}
                spec:
                  image: app
                  job: {args: [--config, /c]}
                  flinkConfiguration: {a: "1", b: "2"}
                  podTemplate: {spec: {containers: [{name: main, image: app:old}, {name: side, image: other}]}}
                ---
                apiVersion: v1
                kind: Namespace
                metadata: {name: team}
                """);
    }

    @Test
    void overlayPatchesRetagsNamespacesAndLabelsLikeKustomize() throws IOException {
        writeBase();
        write("overlay/kustomization.yaml", """
                resources: [../base]
                images:
                  - {name: app, newName: registry:5000/app-gpu}
                patches:
                  - path: merge.yaml
                  - path: args.yaml
                    target: {group: flink.apache.org, version: v1beta1, kind: FlinkDeployment, name: job}
                """);
        write("overlay/merge.yaml", """
                apiVersion: flink.apache.org/v1beta1
                kind: FlinkDeployment
                metadata: {name: job}
                spec:
                  flinkConfiguration: {b: "3", a: null}
                  podTemplate: {spec: {containers: [{name: main, resources: {limits: {nvidia.com/gpu: 1}}}]}}
                """);
        write("overlay/args.yaml", """
                - {op: add, path: /spec/job/args/-, value: --set}
                - {op: add, path: /spec/job/args/-, value: k=v}
                """);

        List<ObjectNode> rendered = KustomizeRenderer.render(dir.resolve("overlay"));
        ObjectNode job = rendered.get(0);
        ObjectNode namespace = rendered.get(1);

        assertThat(job.at("/spec/image").asText()).isEqualTo("registry:5000/app-gpu:1.0");
        assertThat(job.at("/spec/flinkConfiguration").toString()).isEqualTo("{\"b\":\"3\"}");
        assertThat(job.at("/spec/job/args").toString()).isEqualTo("[\"--config\",\"/c\",\"--set\",\"k=v\"]");
        // A custom resource's lists are replaced whole by a strategic-merge patch, as kustomize does.
        assertThat(job.at("/spec/podTemplate/spec/containers").size()).isEqualTo(1);
        assertThat(job.at("/metadata/namespace").asText()).isEqualTo("team");
        assertThat(job.at("/metadata/labels/app.kubernetes.io~1part-of").asText()).isEqualTo("demo");
        assertThat(namespace.at("/metadata/namespace").isMissingNode()).as("Namespace is cluster-scoped").isTrue();
    }

    @Test
    void containerImagesAreRetaggedAtAnyDepth() throws IOException {
        writeBase();

        ObjectNode job = KustomizeRenderer.render(dir.resolve("base")).get(0);

        assertThat(job.at("/spec/podTemplate/spec/containers/0/image").asText()).isEqualTo("app:1.0");
        assertThat(job.at("/spec/podTemplate/spec/containers/1/image").asText()).isEqualTo("other");
    }

    @Test
    void unsupportedKustomizeFeaturesAreRefused() throws IOException {
        writeBase();
        write("generator/kustomization.yaml", """
                resources: [../base]
                configMapGenerator:
                  - {name: extra, literals: [a=b]}
                """);

        assertThatThrownBy(() -> KustomizeRenderer.render(dir.resolve("generator")))
                .hasMessageContaining("configMapGenerator");
    }

    @Test
    void listPatchesOfBuiltInKindsAreRefused() throws IOException {
        write("core/kustomization.yaml", """
                resources: [svc.yaml]
                patches: [{path: patch.yaml}]
                """);
        write("core/svc.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {ports: [{name: a, port: 1}]}
                """);
        write("core/patch.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {ports: [{name: b, port: 2}]}
                """);

        assertThatThrownBy(() -> KustomizeRenderer.render(dir.resolve("core")))
                .hasMessageContaining("list 'ports'");
    }
}
