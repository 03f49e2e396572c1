package org.ctrranker.jobs.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders a kustomization the way {@code kustomize build} does, for the subset of kustomize that k8s/ uses:
 * {@code resources} (files and directories with a kustomization), {@code namespace}, {@code labels} without
 * selectors, {@code images} (also on the FlinkDeployment field that {@code configurations} declares), and
 * {@code patches} from files, either strategic-merge or JSON 6902 with a target.
 *
 * <p>No kustomize binary is available to the build, so the tests render the overlays with this. Anything
 * outside the subset is rejected rather than ignored, so a manifest change that needs more of kustomize fails
 * here first instead of being validated in a shape kustomize would never produce. Checked against
 * {@code kubectl kustomize} (kustomize v5.5) on the overlays when this was written.
 */
final class KustomizeRenderer {

    private static final Set<String> SUPPORTED_FIELDS = Set.of(
            "apiVersion", "kind", "namespace", "labels", "resources", "images", "configurations", "patches");

    /** Kinds that are not namespaced, among those a kustomization here may contain. */
    private static final Set<String> CLUSTER_SCOPED_KINDS = Set.of(
            "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
            "StorageClass", "PriorityClass");

    private KustomizeRenderer() {}

    /** The resources that {@code kustomize build dir} prints, in the same order. */
    static List<ObjectNode> render(Path kustomizationDir) {
        return render(kustomizationDir, new ArrayList<>());
    }

    private static List<ObjectNode> render(Path dir, List<ImageFieldSpec> imageFieldSpecs) {
        ObjectNode kustomization = Yaml.readSingle(dir.resolve("kustomization.yaml"));
        kustomization.fieldNames().forEachRemaining(field -> {
            if (!SUPPORTED_FIELDS.contains(field)) {
                throw new IllegalArgumentException(dir.resolve("kustomization.yaml") + ": field '" + field
                        + "' is outside the kustomize subset the tests render; extend KustomizeRenderer first");
            }
        });

        List<ObjectNode> resources = new ArrayList<>();
        for (JsonNode entry : kustomization.path("resources")) {
            Path path = dir.resolve(entry.asText()).normalize();
            if (Files.isDirectory(path)) {
                resources.addAll(render(path, imageFieldSpecs));
            } else {
                resources.addAll(Yaml.readAll(path));
            }
        }
        for (JsonNode entry : kustomization.path("configurations")) {
            for (JsonNode spec : Yaml.readSingle(dir.resolve(entry.asText())).path("images")) {
                imageFieldSpecs.add(new ImageFieldSpec(spec.path("kind").asText(), spec.path("path").asText()));
            }
        }
        for (JsonNode patch : kustomization.path("patches")) {
            applyPatch(dir, patch, resources);
        }
        for (JsonNode image : kustomization.path("images")) {
            for (ObjectNode resource : resources) {
                retagImages(resource, image, imageFieldSpecs);
            }
        }
        if (kustomization.hasNonNull("namespace")) {
            String namespace = kustomization.get("namespace").asText();
            for (ObjectNode resource : resources) {
                if (!CLUSTER_SCOPED_KINDS.contains(resource.path("kind").asText())) {
                    metadata(resource).put("namespace", namespace);
                }
            }
        }
        for (JsonNode labelSet : kustomization.path("labels")) {
            if (labelSet.path("includeSelectors").asBoolean(false) || labelSet.path("includeTemplates").asBoolean(false)) {
                throw new IllegalArgumentException(dir + ": labels with includeSelectors/includeTemplates are not rendered here");
            }
            for (ObjectNode resource : resources) {
                ObjectNode labels = metadata(resource).with("labels");
                labelSet.path("pairs").fields().forEachRemaining(pair -> labels.set(pair.getKey(), pair.getValue()));
            }
        }
        return resources;
    }

    private static void applyPatch(Path dir, JsonNode patch, List<ObjectNode> resources) {
        if (!patch.hasNonNull("path")) {
            throw new IllegalArgumentException(dir + ": only patches from files (patches[].path) are rendered here");
        }
        Path patchFile = dir.resolve(patch.get("path").asText());
        JsonNode body = Yaml.readSingleNode(patchFile);
        if (body.isArray()) {
            JsonNode target = patch.path("target");
            if (target.isMissingNode()) {
                throw new IllegalArgumentException(patchFile + ": a JSON 6902 patch needs a target");
            }
            List<ObjectNode> matches = resources.stream().filter(r -> matchesTarget(r, target)).toList();
            if (matches.isEmpty()) {
                throw new IllegalArgumentException(patchFile + ": target " + target + " matches no resource");
            }
            matches.forEach(resource -> JsonPatch.apply(resource, (ArrayNode) body, patchFile));
            return;
        }
        ObjectNode mergePatch = (ObjectNode) body;
        String kind = mergePatch.path("kind").asText();
        String name = mergePatch.path("metadata").path("name").asText();
        ObjectNode resource = resources.stream()
                .filter(r -> r.path("kind").asText().equals(kind) && name(r).equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(patchFile + ": no " + kind + " named " + name + " to patch"));
        boolean customResource = isCustomResource(resource);
        StrategicMerge.merge(resource, mergePatch, customResource, patchFile + " on " + kind + "/" + name);
    }

    private static boolean matchesTarget(ObjectNode resource, JsonNode target) {
        String apiVersion = resource.path("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        return (!target.has("group") || target.get("group").asText().equals(group))
                && (!target.has("version") || target.get("version").asText().equals(version))
                && (!target.has("kind") || target.get("kind").asText().equals(resource.path("kind").asText()))
                && (!target.has("name") || target.get("name").asText().equals(name(resource)));
    }

    /** Custom resources have no patch-merge keys in kustomize's schema: their lists are replaced whole. */
    static boolean isCustomResource(JsonNode resource) {
        String apiVersion = resource.path("apiVersion").asText();
        if (!apiVersion.contains("/")) {
            return false;
        }
        String group = apiVersion.substring(0, apiVersion.indexOf('/'));
        return group.contains(".") && !group.endsWith(".k8s.io");
    }

    private static void retagImages(JsonNode node, JsonNode image, List<ImageFieldSpec> fieldSpecs) {
        retagContainers(node, image);
        for (ImageFieldSpec spec : fieldSpecs) {
            if (spec.kind().equals(node.path("kind").asText())) {
                JsonNode parent = node;
                String[] segments = spec.path().split("/");
                for (int i = 0; i < segments.length - 1 && parent != null; i++) {
                    parent = parent.get(segments[i]);
                }
                String field = segments[segments.length - 1];
                if (parent instanceof ObjectNode object && object.hasNonNull(field)) {
                    object.put(field, retag(object.get(field).asText(), image));
                }
            }
        }
    }

    /** kustomize's images transformer rewrites every containers[].image and initContainers[].image, at any depth. */
    private static void retagContainers(JsonNode node, JsonNode image) {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                if ((field.getKey().equals("containers") || field.getKey().equals("initContainers")) && field.getValue().isArray()) {
                    for (JsonNode container : field.getValue()) {
                        if (container.hasNonNull("image")) {
                            ((ObjectNode) container).put("image", retag(container.get("image").asText(), image));
                        }
                    }
                }
                retagContainers(field.getValue(), image);
            }
        } else if (node.isArray()) {
            node.forEach(element -> retagContainers(element, image));
        }
    }

    private static String retag(String reference, JsonNode image) {
        ImageReference current = ImageReference.parse(reference);
        if (!current.name().equals(image.path("name").asText())) {
            return reference;
        }
        String name = image.hasNonNull("newName") ? image.get("newName").asText() : current.name();
        String tag = image.hasNonNull("newTag") ? image.get("newTag").asText() : current.tag();
        return tag == null ? name : name + ":" + tag;
    }

    static ObjectNode metadata(ObjectNode resource) {
        return resource.with("metadata");
    }

    static String name(JsonNode resource) {
        return resource.path("metadata").path("name").asText();
    }

    /** A field of a kind that holds an image reference, declared in a transformer configuration file. */
    private record ImageFieldSpec(String kind, String path) {}

    /** Splits {@code name[:tag]}; a colon inside the registry host (registry:5000/x) is not a tag. */
    record ImageReference(String name, String tag) {
        static ImageReference parse(String reference) {
            int slash = reference.lastIndexOf('/');
            int colon = reference.lastIndexOf(':');
            if (colon > slash) {
                return new ImageReference(reference.substring(0, colon), reference.substring(colon + 1));
            }
            return new ImageReference(reference, null);
        }
    }

    /** Strategic merge as kustomize applies it to the kinds used here. */
    static final class StrategicMerge {
        private StrategicMerge() {}

        /**
         * Maps merge recursively and null deletes a key. For custom resources lists are replaced, as kustomize
         * does without an OpenAPI schema for them; built-in kinds merge some lists by key, which this renderer
         * does not implement, so a list in a patch of a built-in kind is rejected.
         */
        static void merge(ObjectNode target, ObjectNode patch, boolean customResource, String where) {
            Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String key = field.getKey();
                JsonNode value = field.getValue();
                if (key.startsWith("$patch") || key.startsWith("$setElementOrder") || key.startsWith("$retainKeys")) {
                    throw new IllegalArgumentException(where + ": strategic-merge directive " + key + " is not rendered here");
                }
                if (value.isNull()) {
                    target.remove(key);
                } else if (value.isObject() && target.get(key) instanceof ObjectNode existing) {
                    merge(existing, (ObjectNode) value, customResource, where);
                } else if (value.isArray() && !customResource) {
                    throw new IllegalArgumentException(where + ": list '" + key
                            + "' in a patch of a built-in kind merges by key in kustomize, which is not rendered here");
                } else {
                    target.set(key, value.deepCopy());
                }
            }
        }
    }

    /** RFC 6902 operations add, replace and remove, enough for the overlays' patches. */
    static final class JsonPatch {
        private JsonPatch() {}

        static void apply(ObjectNode resource, ArrayNode operations, Path source) {
            for (JsonNode operation : operations) {
                String op = operation.path("op").asText();
                String pointer = operation.path("path").asText();
                int lastSlash = pointer.lastIndexOf('/');
                JsonNode parent = resource.at(pointer.substring(0, lastSlash));
                String last = pointer.substring(lastSlash + 1).replace("~1", "/").replace("~0", "~");
                if (parent.isMissingNode()) {
                    throw new IllegalArgumentException(source + ": " + pointer + ": parent does not exist");
                }
                switch (op) {
                    case "add" -> add(parent, last, operation.get("value").deepCopy(), source, pointer);
                    case "replace" -> {
                        remove(parent, last, source, pointer);
                        add(parent, last, operation.get("value").deepCopy(), source, pointer);
                    }
                    case "remove" -> remove(parent, last, source, pointer);
                    default -> throw new IllegalArgumentException(source + ": JSON patch op '" + op + "' is not rendered here");
                }
            }
        }

        private static void add(JsonNode parent, String last, JsonNode value, Path source, String pointer) {
            if (parent instanceof ObjectNode object) {
                object.set(last, value);
            } else if (parent instanceof ArrayNode array) {
                if (last.equals("-")) {
                    array.add(value);
                } else {
                    array.insert(index(array, last, array.size(), source, pointer), value);
                }
            } else {
                throw new IllegalArgumentException(source + ": " + pointer + ": parent is not a container");
            }
        }

        private static void remove(JsonNode parent, String last, Path source, String pointer) {
            if (parent instanceof ObjectNode object && object.has(last)) {
                object.remove(last);
            } else if (parent instanceof ArrayNode array) {
                array.remove(index(array, last, array.size() - 1, source, pointer));
            } else {
                throw new IllegalArgumentException(source + ": " + pointer + ": nothing to remove");
            }
        }

        private static int index(ArrayNode array, String token, int max, Path source, String pointer) {
            int index = Integer.parseInt(token);
            if (index < 0 || index > max) {
                throw new IllegalArgumentException(source + ": " + pointer + ": index out of range for " + array.size() + " elements");
            }
            return index;
        }
    }
}
