package org.ctrranker.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The rules of DESIGN.md "Event contracts", checked on every topic's schema. */
class SchemaContractTest {

    @ParameterizedTest
    @EnumSource(EventTopic.class)
    void everyRecordAndFieldIsDocumented(EventTopic topic) {
        List<String> undocumented = new ArrayList<>();
        visitRecords(topic.schema(), new HashSet<>(), record -> {
            if (isBlank(record.getDoc())) {
                undocumented.add(record.getFullName());
            }
            for (Schema.Field field : record.getFields()) {
                if (isBlank(field.doc())) {
                    undocumented.add(record.getName() + "." + field.name());
                }
            }
        });
        assertThat(undocumented).as("records and fields without a doc").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(EventTopic.class)
    void moneyIsLongMicrosAndTimesAreLongEpochMillis(EventTopic topic) {
        List<String> wrong = new ArrayList<>();
        visitRecords(topic.schema(), new HashSet<>(), record -> {
            for (Schema.Field field : record.getFields()) {
                boolean money = field.name().endsWith("_micros");
                boolean time = field.name().endsWith("_ms");
                if ((money || time) && nonNullType(field.schema()).getType() != Schema.Type.LONG) {
                    wrong.add(record.getName() + "." + field.name() + " is " + field.schema());
                }
                if (field.name().contains("price") && !money && !field.name().endsWith("_norm")) {
                    wrong.add(record.getName() + "." + field.name() + " is a price without the _micros unit");
                }
            }
        });
        assertThat(wrong).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(EventTopic.class)
    void keyFieldIsARequiredString(EventTopic topic) {
        Schema.Field key = topic.schema().getField(topic.keyField());
        assertThat(key).isNotNull();
        assertThat(key.schema().getType()).isEqualTo(Schema.Type.STRING);
    }

    @ParameterizedTest
    @EnumSource(EventTopic.class)
    void currentSchemaReadsEveryKeptVersion(EventTopic topic) {
        List<Schema> history = SchemaHistory.versions(topic);
        assertThat(history).as("history/%s/v1.avsc must exist", topic.defaultName()).isNotEmpty();
        assertThat(SchemaCompatibilityCheck.backwardIncompatibilities(topic.schema(), history)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(EventTopic.class)
    void currentSchemaIsKeptInHistory(EventTopic topic) {
        long current = SchemaNormalization.parsingFingerprint64(topic.schema());
        List<Schema> history = SchemaHistory.versions(topic);
        boolean kept = history.stream().anyMatch(s -> SchemaNormalization.parsingFingerprint64(s) == current);
        assertThat(kept)
                .as("the schema of %s changed: add it as schemas/history/%s/v%d.avsc (Schema.toString(true))",
                        topic.defaultName(), topic.defaultName(), history.size() + 1)
                .isTrue();
    }

    private static Schema nonNullType(Schema schema) {
        if (schema.getType() != Schema.Type.UNION) {
            return schema;
        }
        return schema.getTypes().stream().filter(s -> s.getType() != Schema.Type.NULL).findFirst().orElse(schema);
    }

    private static void visitRecords(Schema schema, Set<String> seen, java.util.function.Consumer<Schema> visitor) {
        switch (schema.getType()) {
            case RECORD -> {
                if (seen.add(schema.getFullName())) {
                    visitor.accept(schema);
                    schema.getFields().forEach(f -> visitRecords(f.schema(), seen, visitor));
                }
            }
            case ARRAY -> visitRecords(schema.getElementType(), seen, visitor);
            case MAP -> visitRecords(schema.getValueType(), seen, visitor);
            case UNION -> schema.getTypes().forEach(s -> visitRecords(s, seen, visitor));
            default -> { }
        }
    }

    private static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }
}
