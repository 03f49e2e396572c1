package org.ctrranker.jobs.io;

import java.util.Properties;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.types.Either;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.operators.ingest.EventDeserializationSchema;
import org.ctrranker.operators.ingest.ValidationRules;
import org.ctrranker.operators.kafka.AvroRecordSerializationSchema;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.VersionedRedisSink;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.scoring.ModelUpdate;
import org.ctrranker.operators.scoring.ModelVersionSink;
import org.ctrranker.operators.scoring.OnlineConfig;
import org.ctrranker.schemas.EventTopic;

/**
 * The job's Kafka sources, exactly-once Kafka sinks and Redis sink, built from its settings.
 * Bounded sources read what the topics hold when the job starts, then finish ({@code bin/ctr run --bounded}).
 */
public final class ConfiguredJobIO implements JobSources, JobSinks {

    private final CtrConfig config;
    private final boolean bounded;
    private final ValidationRules rules;

    /** Environment variable with the Redis password, used when {@code ctr.redis.url} carries none. */
    public static final String REDIS_PASSWORD_ENV = "CTR_REDIS_PASSWORD";

    /** Appended to {@code ctr.kafka.group-id} for the scorer's reader of the auctions. */
    public static final String SCORING_GROUP_SUFFIX = "-scoring";

    public ConfiguredJobIO(CtrConfig config, boolean bounded) {
        this.config = config;
        this.bounded = bounded;
        this.rules = new ValidationRules(config.longValue("ctr.validation.min-event-time-ms"),
                config.longValue("ctr.validation.max-future-ms"));
    }

    public String bootstrapServers() {
        return config.string("ctr.kafka.bootstrap-servers");
    }

    @Override
    public Source<Either<DeadLetter, AdAuction>, ?, ?> auctions() {
        return source(EventTopic.AD_AUCTIONS, AdAuction.class, "ctr.topic.auctions");
    }

    /** A consumer group of its own ({@code <group-id>-scoring}): the lag of each reader shows apart. */
    @Override
    public Source<Either<DeadLetter, AdAuction>, ?, ?> auctionsToScore() {
        return source(EventTopic.AD_AUCTIONS, AdAuction.class, "ctr.topic.auctions", SCORING_GROUP_SUFFIX);
    }

    @Override
    public Source<Either<DeadLetter, AdImpression>, ?, ?> impressions() {
        return source(EventTopic.AD_IMPRESSIONS, AdImpression.class, "ctr.topic.impressions");
    }

    @Override
    public Source<Either<DeadLetter, AdClick>, ?, ?> clicks() {
        return source(EventTopic.AD_CLICKS, AdClick.class, "ctr.topic.clicks");
    }

    @Override
    public Sink<TrainingSample> trainingSamples() {
        return exactlyOnce(EventTopic.TRAINING_SAMPLES, TrainingSample.class, "ctr.topic.training-samples");
    }

    @Override
    public Sink<DeadLetter> deadLetters() {
        return exactlyOnce(EventTopic.DEAD_LETTERS, DeadLetter.class, "ctr.topic.dead-letters");
    }

    @Override
    public Sink<CtrScore> scores() {
        return exactlyOnce(EventTopic.CTR_SCORES, CtrScore.class, "ctr.topic.scores");
    }

    @Override
    public Sink<VersionedWrite> redis() {
        return new VersionedRedisSink(redisEndpoint(), (int) config.longValue("ctr.redis.max-buffered-keys"),
                config.longValue("ctr.redis.linger-ms"));
    }

    @Override
    public Sink<ModelUpdate> modelVersions() {
        return new ModelVersionSink(redisEndpoint(), OnlineConfig.fromSettings(config.asMap()));
    }

    private RedisEndpoint redisEndpoint() {
        RedisEndpoint endpoint = RedisEndpoint.parse(config.string("ctr.redis.url"))
                .withPasswordIfAbsent(System.getenv(REDIS_PASSWORD_ENV));
        int replicas = (int) config.longValue("ctr.redis.wait-replicas");
        return replicas == 0 ? endpoint : endpoint.withReplicaAcks(replicas, config.longValue("ctr.redis.wait-timeout-ms"));
    }

    private <T extends SpecificRecord> Source<Either<DeadLetter, T>, ?, ?> source(EventTopic topic, Class<T> type,
            String topicKey) {
        return source(topic, type, topicKey, "");
    }

    private <T extends SpecificRecord> Source<Either<DeadLetter, T>, ?, ?> source(EventTopic topic, Class<T> type,
            String topicKey, String groupSuffix) {
        String group = config.string("ctr.kafka.group-id") + groupSuffix;
        KafkaSourceBuilder<Either<DeadLetter, T>> builder = KafkaSource.<Either<DeadLetter, T>>builder()
                .setBootstrapServers(bootstrapServers())
                .setTopics(config.string(topicKey))
                .setGroupId(group)
                .setClientIdPrefix(group + "-" + topic.defaultName())
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setProperty("isolation.level", "read_committed")
                .setDeserializer(new EventDeserializationSchema<>(topic, type, rules));
        if (bounded) {
            builder.setStartingOffsets(OffsetsInitializer.earliest()).setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    private <T extends SpecificRecord> Sink<T> exactlyOnce(EventTopic topic, Class<T> type, String topicKey) {
        Properties producer = new Properties();
        producer.setProperty("transaction.timeout.ms", config.string("ctr.kafka.transaction-timeout-ms"));
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrapServers())
                .setRecordSerializer(new AvroRecordSerializationSchema<>(topic, type, config.string(topicKey)))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(config.string("ctr.kafka.transactional-id-prefix") + "-" + topic.defaultName())
                .setKafkaProducerConfig(producer)
                .build();
    }
}
