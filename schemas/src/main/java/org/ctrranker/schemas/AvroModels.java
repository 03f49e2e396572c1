package org.ctrranker.schemas;

import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * The Avro data model every writer of the project's records uses: the class's own, with the per-field coders Avro
 * generated for it switched on. Avro leaves them off unless a system property says otherwise; they write the same
 * bytes as its generic writer (AvroModelsTest checks every record type), without its per-field dispatch: about 1.6
 * times the records per CPU-second for a training sample carrying a full user history, on every hop between
 * operators, every checkpoint of heap state and every topic write. Readers keep the class's own model: Avro's fast
 * reader, on by default there, was quicker than the generated decoder.
 */
public final class AvroModels {

    private static final ClassValue<SpecificData> FOR_WRITING = new ClassValue<>() {
        @Override
        protected SpecificData computeValue(Class<?> type) {
            SpecificData model = new SpecificData(type.getClassLoader());
            model.setCustomCoders(true);
            return model;
        }
    };

    private AvroModels() {}

    /** The model to write {@code type}'s records with (shared: Avro's models are thread-safe). */
    public static SpecificData forWriting(Class<? extends SpecificRecord> type) {
        return FOR_WRITING.get(type);
    }
}
