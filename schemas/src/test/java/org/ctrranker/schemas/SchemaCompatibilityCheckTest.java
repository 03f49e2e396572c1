package org.ctrranker.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The checker the contract test relies on must reject the changes that break old data. */
class SchemaCompatibilityCheckTest {

    private static final List<Schema> CLICK_HISTORY = SchemaHistory.versions(EventTopic.AD_CLICKS);

    @Test
    void addingAFieldWithADefaultIsBackwardCompatible() {
        Schema evolved = editClickSchema(json -> json.replace(
                "\"fields\" : [",
                "\"fields\" : [ {\"name\": \"referrer\", \"type\": [\"null\", \"string\"], \"default\": null, \"doc\": \"x\"},"));
        assertThat(SchemaCompatibilityCheck.backwardIncompatibilities(evolved, CLICK_HISTORY)).isEmpty();
    }

    @Test
    void addingARequiredFieldWithoutDefaultIsRejected() {
        Schema evolved = editClickSchema(json -> json.replace(
                "\"fields\" : [",
                "\"fields\" : [ {\"name\": \"referrer\", \"type\": \"string\", \"doc\": \"x\"},"));
        assertThat(SchemaCompatibilityCheck.backwardIncompatibilities(evolved, CLICK_HISTORY))
                .singleElement().asString().contains("v1").contains("referrer");
    }

    @Test
    void changingAFieldTypeIsRejected() {
        Schema evolved = editClickSchema(json -> json.replaceFirst(
                "(\"name\" : \"click_time_ms\",\\s*\"type\" : )\"long\"", "$1\"int\""));
        assertThat(evolved.getField("click_time_ms").schema().getType()).isEqualTo(Schema.Type.INT);
        assertThat(SchemaCompatibilityCheck.backwardIncompatibilities(evolved, CLICK_HISTORY)).isNotEmpty();
    }

    private static Schema editClickSchema(java.util.function.UnaryOperator<String> edit) {
        String json = EventTopic.AD_CLICKS.schema().toString(true);
        String edited = edit.apply(json);
        assertThat(edited).as("the edit must apply").isNotEqualTo(json);
        return new Schema.Parser().parse(edited);
    }
}
