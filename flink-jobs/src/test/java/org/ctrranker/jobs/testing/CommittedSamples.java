package org.ctrranker.jobs.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.ImpressionTruth;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;

/** The labelled samples a job committed to Kafka (read_committed), and checks of them against the generator's truth. */
public final class CommittedSamples {

    public static final AvroCodec<TrainingSample> CODEC =
            AvroCodec.forTopic(EventTopic.TRAINING_SAMPLES, TrainingSample.class);

    private CommittedSamples() {}

    public static TrainingSample decode(byte[] bytes) {
        try {
            return CODEC.decode(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("undecodable training sample", e);
        }
    }

    /** Committed samples by sample id; fails on a sample id seen twice (exactly-once broken). */
    public static Map<String, byte[]> read(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, byte[]> samples = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    String id = decode(record.value()).getSampleId();
                    assertThat(samples.put(id, record.value())).as("sample %s written twice", id).isNull();
                }
            }
        }
        return samples;
    }

    /**
     * Every impression of the truth has exactly one sample, labelled as the generator decided, at its impression
     * time, with a market price within its bid and a feature snapshot holding nothing later than the impression.
     * Returns the samples by impression id.
     */
    public static Map<String, TrainingSample> assertLabelledAsGenerated(GroundTruth truth, Map<String, byte[]> samples) {
        Map<String, TrainingSample> byImpression = new HashMap<>();
        for (byte[] bytes : samples.values()) {
            TrainingSample sample = decode(bytes);
            byImpression.put(sample.getImpressionId(), sample);
        }
        assertThat(byImpression).as("samples by impression").hasSize(samples.size());
        for (ImpressionTruth expected : truth.impressionTruths()) {
            TrainingSample sample = byImpression.get(expected.impressionId());
            assertThat(sample).as(expected.impressionId()).isNotNull();
            assertThat(sample.getLabel()).as(expected.impressionId()).isEqualTo(expected.clickedWithinWindow() ? 1 : 0);
            assertThat(sample.getMarketPriceMicros()).isLessThanOrEqualTo(sample.getBidMicros());
            assertThat(sample.getImpressionTimeMs()).isEqualTo(expected.impressionTimeMs());
            assertPointInTime(sample);
        }
        return byImpression;
    }

    /** The feature snapshot a sample carries holds nothing later than its impression. */
    private static void assertPointInTime(TrainingSample sample) {
        long t = sample.getImpressionTimeMs();
        var feedback = sample.getFeedback();
        assertThat(feedback).as("feedback of %s", sample.getImpressionId()).isNotNull();
        assertThat(feedback.getAsOfMs()).isEqualTo(t);
        for (var aligned : feedback.getClicks()) {
            assertThat(aligned.getClick().getTimeMs()).isLessThanOrEqualTo(t);
            aligned.getBefore().forEach(e -> assertThat(e.getTimeMs()).isLessThanOrEqualTo(t));
            aligned.getAfter().forEach(e -> assertThat(e.getTimeMs()).isLessThanOrEqualTo(t));
        }
        feedback.getRecentUnclicks().forEach(e -> assertThat(e.getTimeMs()).isLessThanOrEqualTo(t));
    }

    /** The two sample sets are equal, TEM4CTR snapshots included: decoded first, so a difference shows as fields. */
    public static void assertSame(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (Map.Entry<String, byte[]> entry : expected.entrySet()) {
            assertThat(decode(actual.get(entry.getKey()))).as(entry.getKey()).isEqualTo(decode(entry.getValue()));
            assertThat(actual.get(entry.getKey())).as(entry.getKey()).isEqualTo(entry.getValue());
        }
    }
}
