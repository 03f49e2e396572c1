package org.ctrranker.schemas;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Backward compatibility as the project defines it: a reader on the new schema must read data
 * written with every earlier version. Uses Avro's own reader/writer compatibility checker.
 */
public final class SchemaCompatibilityCheck {

    private SchemaCompatibilityCheck() {}

    /** @return one line per earlier version the candidate cannot read; empty when compatible with all */
    public static List<String> backwardIncompatibilities(Schema candidate, List<Schema> earlierVersions) {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < earlierVersions.size(); i++) {
            SchemaPairCompatibility result =
                    SchemaCompatibility.checkReaderWriterCompatibility(candidate, earlierVersions.get(i));
            if (result.getType() != SchemaCompatibilityType.COMPATIBLE) {
                problems.add("cannot read v" + (i + 1) + ": " + result.getResult().getIncompatibilities());
            }
        }
        return problems;
    }
}
