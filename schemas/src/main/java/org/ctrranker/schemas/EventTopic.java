package org.ctrranker.schemas;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.TrainingSample;

/**
 * The project's topics: default name, record class and the field that is the Kafka key
 * (chosen so that Kafka partitioning matches the Flink key of the first operator reading it).
 */
public enum EventTopic {
    AD_AUCTIONS("ad-auctions", AdAuction.class, AdAuction.getClassSchema(), "auction_id"),
    AD_IMPRESSIONS("ad-impressions", AdImpression.class, AdImpression.getClassSchema(), "auction_id"),
    AD_CLICKS("ad-clicks", AdClick.class, AdClick.getClassSchema(), "impression_id"),
    TRAINING_SAMPLES("training-samples", TrainingSample.class, TrainingSample.getClassSchema(), "user_id"),
    CTR_SCORES("ctr-scores", CtrScore.class, CtrScore.getClassSchema(), "auction_id"),
    DEAD_LETTERS("dead-letters", DeadLetter.class, DeadLetter.getClassSchema(), "source_topic");

    private final String defaultName;
    private final Class<? extends SpecificRecord> recordClass;
    private final Schema schema;
    private final String keyField;

    EventTopic(String defaultName, Class<? extends SpecificRecord> recordClass, Schema schema, String keyField) {
        this.defaultName = defaultName;
        this.recordClass = recordClass;
        this.schema = schema;
        this.keyField = keyField;
    }

    /** The topic's name unless configuration renames it; also the folder of its schema history. */
    public String defaultName() {
        return defaultName;
    }

    public Class<? extends SpecificRecord> recordClass() {
        return recordClass;
    }

    /** The current (writer) schema. */
    public Schema schema() {
        return schema;
    }

    public String keyField() {
        return keyField;
    }

    /** The record's Kafka key as UTF-8 text. */
    public String keyOf(SpecificRecord record) {
        Object key = record.get(schema.getField(keyField).pos());
        return key == null ? null : key.toString();
    }

    public static EventTopic byDefaultName(String name) {
        for (EventTopic topic : values()) {
            if (topic.defaultName.equals(name)) {
                return topic;
            }
        }
        throw new IllegalArgumentException("unknown topic '" + name + "'; known: ad-auctions, ad-impressions, "
                + "ad-clicks, training-samples, ctr-scores, dead-letters");
    }
}
