package org.ctrranker.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The earlier versions of each topic's schema, kept in the module's {@code history/<topic>/v<n>.avsc}
 * (fully resolved, self-contained). Decoders register them so data written by an older producer is
 * still read, and the compatibility test checks every new schema against all of them.
 */
public final class SchemaHistory {

    private static final int MAX_VERSIONS = 1000;

    private SchemaHistory() {}

    /** All kept versions of the topic's schema, oldest first. */
    public static List<Schema> versions(EventTopic topic) {
        List<Schema> versions = new ArrayList<>();
        for (int v = 1; v <= MAX_VERSIONS; v++) {
            String resource = resourceName(topic, v);
            try (InputStream in = SchemaHistory.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    break;
                }
                versions.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + resource, e);
            }
        }
        return versions;
    }

    static String resourceName(EventTopic topic, int version) {
        return "avro-history/" + topic.defaultName() + "/v" + version + ".avsc";
    }
}
