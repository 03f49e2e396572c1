package org.ctrranker.jobs.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates built-in kinds (and the Prometheus Operator's PodMonitor) with fabric8's Kubernetes model, strictly:
 * fabric8 keeps unknown fields in each object's {@code additionalProperties} instead of failing, so after
 * deserializing, every such map in the object graph must be empty, and every resource quantity must parse.
 * Type errors (a string where an integer belongs) fail in deserialization.
 */
final class CoreKindValidator {

    private static final Map<String, Class<?>> MODEL_BY_API_VERSION_AND_KIND = Map.ofEntries(
            Map.entry("v1 Namespace", Namespace.class),
            Map.entry("v1 ServiceAccount", ServiceAccount.class),
            Map.entry("v1 ConfigMap", ConfigMap.class),
            Map.entry("v1 Secret", Secret.class),
            Map.entry("v1 Service", Service.class),
            Map.entry("v1 PersistentVolumeClaim", PersistentVolumeClaim.class),
            Map.entry("apps/v1 StatefulSet", StatefulSet.class),
            Map.entry("apps/v1 Deployment", Deployment.class),
            Map.entry("rbac.authorization.k8s.io/v1 Role", Role.class),
            Map.entry("rbac.authorization.k8s.io/v1 RoleBinding", RoleBinding.class),
            Map.entry("monitoring.coreos.com/v1 PodMonitor", PodMonitor.class));

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    private CoreKindValidator() {}

    static boolean knows(JsonNode resource) {
        return MODEL_BY_API_VERSION_AND_KIND.containsKey(key(resource));
    }

    /** Problems of one resource, each naming the field path; empty when valid. */
    static List<String> validate(JsonNode resource) {
        Class<?> model = MODEL_BY_API_VERSION_AND_KIND.get(key(resource));
        if (model == null) {
            throw new IllegalArgumentException("no Kubernetes model for " + key(resource));
        }
        return validateAs(resource, model, "$");
    }

    /** The metadata of a custom resource, which its CRD schema leaves to the API server. */
    static List<String> validateObjectMeta(JsonNode resource) {
        return validateAs(resource.path("metadata"), ObjectMeta.class, "$.metadata");
    }

    private static List<String> validateAs(JsonNode node, Class<?> model, String root) {
        Object value;
        try {
            value = MAPPER.treeToValue(node, model);
        } catch (Exception e) {
            return List.of(root + ": " + e.getMessage().lines().findFirst().orElse(e.toString()));
        }
        List<String> problems = new ArrayList<>();
        walk(value, root, problems, new IdentityHashMap<>());
        return problems;
    }

    private static void walk(Object value, String path, List<String> problems, Map<Object, Boolean> seen) {
        if (value == null || seen.put(value, Boolean.TRUE) != null) {
            return;
        }
        if (value instanceof Collection<?> collection) {
            int index = 0;
            for (Object element : collection) {
                walk(element, path + "[" + index++ + "]", problems, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((key, element) -> walk(element, path + "." + key, problems, seen));
            return;
        }
        if (value instanceof Quantity quantity) {
            try {
                Quantity.getAmountInBytes(quantity);
            } catch (RuntimeException e) {
                problems.add(path + ": '" + quantity + "' is not a Kubernetes quantity");
            }
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Class<?> type = value.getClass(); type != null && type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers())) {
                    continue;
                }
                field.setAccessible(true);
                Object fieldValue;
                try {
                    fieldValue = field.get(value);
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
                if (field.getName().equals("additionalProperties")) {
                    if (fieldValue instanceof Map<?, ?> unknown && !unknown.isEmpty()) {
                        for (Object name : Set.copyOf(unknown.keySet())) {
                            problems.add(path + "." + name + ": unknown field (not in the Kubernetes API for "
                                    + value.getClass().getSimpleName() + ")");
                        }
                    }
                    continue;
                }
                walk(fieldValue, path + "." + jsonName(field), problems, seen);
            }
        }
    }

    private static String jsonName(Field field) {
        com.fasterxml.jackson.annotation.JsonProperty property =
                field.getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class);
        return property != null && !property.value().isEmpty() ? property.value() : field.getName();
    }

    private static String key(JsonNode resource) {
        return resource.path("apiVersion").asText() + " " + resource.path("kind").asText();
    }
}
