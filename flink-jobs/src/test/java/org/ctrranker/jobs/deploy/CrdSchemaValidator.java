package org.ctrranker.jobs.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Validates custom resources against the openAPIV3Schema of their CRD version, as the API server's structural
 * schema does: every object without {@code x-kubernetes-preserve-unknown-fields} is closed, so an unknown
 * (misspelt) field fails instead of being silently pruned; types, enums, ranges and required fields are checked.
 * Not checked: CEL rules ({@code x-kubernetes-validations}) and {@code metadata}, which {@link CoreKindValidator}
 * checks as an ObjectMeta.
 */
final class CrdSchemaValidator {

    private final Map<String, JsonSchema> schemasByApiVersionAndKind;

    private CrdSchemaValidator(Map<String, JsonSchema> schemasByApiVersionAndKind) {
        this.schemasByApiVersionAndKind = schemasByApiVersionAndKind;
    }

    /** Loads every CRD (*.yml, *.yaml) in a folder, one schema per served version. */
    static CrdSchemaValidator fromDirectory(Path crdDirectory) {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder()
                .locale(Locale.ENGLISH)
                .typeLoose(false)
                .pathType(PathType.JSON_PATH)
                .build();
        Map<String, JsonSchema> schemas = new HashMap<>();
        try (Stream<Path> files = Files.list(crdDirectory)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml")).sorted().toList()) {
                for (ObjectNode crd : Yaml.readAll(file)) {
                    if (!"CustomResourceDefinition".equals(crd.path("kind").asText())) {
                        continue;
                    }
                    String group = crd.path("spec").path("group").asText();
                    String kind = crd.path("spec").path("names").path("kind").asText();
                    for (JsonNode version : crd.path("spec").path("versions")) {
                        if (!version.path("served").asBoolean(false)) {
                            continue;
                        }
                        JsonNode openApi = version.path("schema").path("openAPIV3Schema");
                        String apiVersion = group + "/" + version.path("name").asText();
                        schemas.put(key(apiVersion, kind), factory.getSchema(toJsonSchema(openApi), config));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + crdDirectory, e);
        }
        return new CrdSchemaValidator(schemas);
    }

    boolean knows(JsonNode resource) {
        return schemasByApiVersionAndKind.containsKey(key(resource.path("apiVersion").asText(), resource.path("kind").asText()));
    }

    /** Problems of one resource, each naming the JSON path of the offending field; empty when valid. */
    List<String> validate(JsonNode resource) {
        JsonSchema schema = Optional.ofNullable(schemasByApiVersionAndKind.get(
                        key(resource.path("apiVersion").asText(), resource.path("kind").asText())))
                .orElseThrow(() -> new IllegalArgumentException("no CRD schema for " + resource.path("apiVersion").asText()
                        + " " + resource.path("kind").asText()));
        List<String> problems = new ArrayList<>();
        for (ValidationMessage message : schema.validate(resource)) {
            // The validator reports an unknown field at its parent; name the field itself, as kubectl does.
            if ("additionalProperties".equals(message.getType()) && message.getProperty() != null) {
                problems.add(message.getInstanceLocation() + "." + message.getProperty()
                        + ": unknown field (not defined in the CRD schema, which does not allow additional properties)");
            } else {
                problems.add(message.getMessage());
            }
        }
        problems.sort(null);
        return problems;
    }

    private static String key(String apiVersion, String kind) {
        return apiVersion + " " + kind;
    }

    /**
     * The CRD's OpenAPI v3 subset as a JSON Schema (draft 4, the closest dialect): objects closed unless they
     * preserve unknown fields or declare their own additionalProperties; int-or-string as either type; the
     * x-kubernetes-* extensions removed once applied, so the validator does not treat them as keywords.
     */
    static JsonNode toJsonSchema(JsonNode openApiSchema) {
        ObjectNode schema = openApiSchema.deepCopy();
        close(schema);
        ObjectNode properties = schema.with("properties");
        // Every object has these, whether or not the CRD generator listed them; the API server checks them itself.
        properties.set("apiVersion", JsonNodeFactory.instance.objectNode().put("type", "string"));
        properties.set("kind", JsonNodeFactory.instance.objectNode().put("type", "string"));
        // ObjectMeta is validated with the Kubernetes model (CoreKindValidator), as the API server does.
        properties.set("metadata", JsonNodeFactory.instance.objectNode().put("type", "object"));
        return schema;
    }

    private static void close(JsonNode node) {
        if (node instanceof ArrayNode array) {
            array.forEach(CrdSchemaValidator::close);
            return;
        }
        if (!(node instanceof ObjectNode schema)) {
            return;
        }
        boolean preservesUnknownFields = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
            schema.remove("type");
            if (!schema.has("anyOf")) {
                ArrayNode anyOf = schema.putArray("anyOf");
                anyOf.addObject().put("type", "integer");
                anyOf.addObject().put("type", "string");
            }
        }
        if ("object".equals(schema.path("type").asText()) && !preservesUnknownFields && !schema.has("additionalProperties")) {
            schema.put("additionalProperties", false);
        }
        Iterator<String> names = schema.fieldNames();
        List<String> extensions = new ArrayList<>();
        while (names.hasNext()) {
            String name = names.next();
            if (name.startsWith("x-kubernetes-")) {
                extensions.add(name);
            }
        }
        schema.remove(extensions);
        // Descend into subschemas only: "properties" maps names to schemas, every other keyword holds a schema,
        // a list of schemas, or a literal (enum values, required names) that has no schema keywords to rewrite.
        if (schema.get("properties") instanceof ObjectNode properties) {
            properties.forEach(CrdSchemaValidator::close);
        }
        for (String keyword : List.of("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf")) {
            if (schema.has(keyword)) {
                close(schema.get(keyword));
            }
        }
    }
}
