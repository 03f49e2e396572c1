package org.ctrranker.jobs.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Generator -> real broker: what lands on the topics is exactly the ground truth, keyed as the contract says, from
 * the bulk writer (lingering, lz4) and the paced one (no linger, no compression) alike.
 */
@ExtendWith(LocalStackExtension.class)
class KafkaEventWriterIT {

    @ParameterizedTest(name = "compressed={0}")
    @ValueSource(booleans = {true, false})
    void topicsHoldExactlyTheGeneratedRecordsKeyedByTheirContractKey(boolean compressed, LocalStack stack)
            throws IOException {
        Map<EventTopic, String> topics = new EnumMap<>(EventTopic.class);
        for (EventTopic topic : List.of(EventTopic.AD_AUCTIONS, EventTopic.AD_IMPRESSIONS, EventTopic.AD_CLICKS)) {
            topics.put(topic, "writer-it-" + (compressed ? "lz4-" : "plain-") + topic.defaultName());
        }
        stack.createTopics(topics.values(), 3);
        GeneratorConfig config = GeneratorConfig.builder().seed(42).auctions(5_000).malformedRate(0.01).build();
        List<GeneratedRecord> sent = new ArrayList<>();
        GroundTruth truth;
        try (KafkaEventWriter writer = compressed
                ? new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), topics)
                : new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), topics, 0, false)) {
            truth = new SyntheticEventGenerator(config).run(r -> {
                sent.add(r);
                writer.accept(r);
            });
        }

        Map<String, Long> counts = stack.countRecords(topics.values());
        for (Map.Entry<EventTopic, String> topic : topics.entrySet()) {
            assertThat(counts.get(topic.getValue())).as(topic.getValue()).isEqualTo(truth.records().get(topic.getKey()));
        }

        // Every well-formed record decodes to what was sent, under its contract key; malformed ones do not decode.
        Map<String, GeneratedRecord> validByKeyAndTime = new HashMap<>();
        for (GeneratedRecord r : sent) {
            if (!r.malformed()) {
                validByKeyAndTime.put(r.topic() + "|" + r.key() + "|" + r.value(), r);
            }
        }
        long decoded = 0;
        long undecodable = 0;
        for (Map.Entry<EventTopic, String> topic : topics.entrySet()) {
            AvroCodec<?> codec = AvroCodec.forTopic(topic.getKey(), topic.getKey().recordClass());
            for (ConsumerRecord<byte[], byte[]> record : readAll(stack, topic.getValue())) {
                String key = new String(record.key(), StandardCharsets.UTF_8);
                try {
                    Object value = codec.decode(record.value());
                    if (validByKeyAndTime.containsKey(topic.getKey() + "|" + key + "|" + value)) {
                        decoded++;
                    }
                } catch (IOException e) {
                    undecodable++;
                }
            }
        }
        long valid = sent.stream().filter(r -> !r.malformed()).count();
        assertThat(decoded).isEqualTo(valid);
        long rawMalformed = sent.stream().filter(r -> r.rawBytes() != null).count();
        assertThat(undecodable).isEqualTo(rawMalformed).isPositive();
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(LocalStack stack, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.endpoints().kafkaBootstrap());
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }
}
