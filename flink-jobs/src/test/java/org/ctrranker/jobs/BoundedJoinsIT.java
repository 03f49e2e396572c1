package org.ctrranker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.GroundTruth;
import org.ctrranker.jobs.generate.ImpressionTruth;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.jobs.ingest.KafkaEventWriter;
import org.ctrranker.jobs.testing.CommittedRecords;
import org.ctrranker.localenv.LocalStack;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.schemas.AvroCodec;
import org.ctrranker.schemas.EventTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Generator with faults -> real broker -> the job, bounded, in the mini cluster: every count equals
 * the ground truth, every impression's label is the generator's, no sample's feature snapshot holds
 * an event later than its impression, and a second run writes the same labels and auction fields.
 */
@ExtendWith(LocalStackExtension.class)
class BoundedJoinsIT {

    @Test
    void labelsAndCountsEqualTheGroundTruthAndASecondRunWritesTheSameLabels(LocalStack stack) throws Exception {
        Map<EventTopic, String> inputs = Map.of(EventTopic.AD_AUCTIONS, "joins-it-auctions",
                EventTopic.AD_IMPRESSIONS, "joins-it-impressions", EventTopic.AD_CLICKS, "joins-it-clicks");
        stack.createTopics(List.of("joins-it-auctions", "joins-it-impressions", "joins-it-clicks",
                "joins-it-samples-1", "joins-it-samples-2", "joins-it-dead-letters"), 4);
        GeneratorConfig generator = GeneratorConfig.builder().seed(9).auctions(6_000)
                .lateClickRate(0.05).duplicateClickRate(0.1).orphanClickRate(0.05).outOfOrderRate(0.2)
                .malformedRate(0.01).unrenderedRate(0.05).build();
        GroundTruth truth;
        try (KafkaEventWriter writer = new KafkaEventWriter(stack.endpoints().kafkaBootstrap(), inputs)) {
            truth = new SyntheticEventGenerator(generator).run(writer);
        }

        Map<String, Object> counts = BoundedRun.run(config(stack, "joins-it-samples-1"), 2);

        assertThat(counts.get("labelled")).isEqualTo(truth.impressions());
        assertThat(counts.get("joined")).isEqualTo(truth.impressions());
        assertThat(counts.get("positives")).isEqualTo(truth.clickedImpressions());
        assertThat(counts.get("late_clicks")).isEqualTo(truth.lateClicks());
        assertThat(counts.get("orphan_clicks")).isEqualTo(truth.orphanClicks());
        assertThat(counts.get("duplicate_clicks")).isEqualTo(truth.duplicateClicks());
        assertThat(counts.get("auctions_without_impression")).isEqualTo(truth.auctionsWithoutImpression());
        assertThat(counts.get("impressions_without_auction")).isEqualTo(0L);
        assertThat(counts.get("dead_letters")).as("malformed + late + orphan + duplicate: nothing unaccounted for")
                .isEqualTo(truth.malformedRecords() + truth.lateClicks() + truth.orphanClicks() + truth.duplicateClicks());

        Map<String, byte[]> first = readSamples(stack, "joins-it-samples-1");
        assertThat(first).hasSize((int) truth.impressions());
        AvroCodec<TrainingSample> codec = AvroCodec.forTopic(EventTopic.TRAINING_SAMPLES, TrainingSample.class);
        Map<String, TrainingSample> byImpression = new HashMap<>();
        for (byte[] bytes : first.values()) {
            TrainingSample sample = codec.decode(bytes);
            byImpression.put(sample.getImpressionId(), sample);
        }
        long withClickHistory = 0;
        for (ImpressionTruth expected : truth.impressionTruths()) {
            TrainingSample sample = byImpression.get(expected.impressionId());
            assertThat(sample).as(expected.impressionId()).isNotNull();
            assertThat(sample.getLabel()).as(expected.impressionId()).isEqualTo(expected.clickedWithinWindow() ? 1 : 0);
            assertThat(sample.getMarketPriceMicros()).isLessThanOrEqualTo(sample.getBidMicros());
            assertThat(sample.getImpressionTimeMs()).isEqualTo(expected.impressionTimeMs());
            assertPointInTime(sample);
            withClickHistory += sample.getFeedback().getClicks().isEmpty() ? 0 : 1;
        }
        assertThat(withClickHistory).as("samples whose user had clicked before").isGreaterThan(truth.impressions() / 20);

        BoundedRun.run(config(stack, "joins-it-samples-2"), 2);
        Map<String, byte[]> second = readSamples(stack, "joins-it-samples-2");
        assertThat(second.keySet()).isEqualTo(first.keySet());
        long feedbackDiffers = 0;
        for (Map.Entry<String, byte[]> entry : first.entrySet()) {
            TrainingSample a = codec.decode(entry.getValue());
            TrainingSample b = codec.decode(second.get(entry.getKey()));
            feedbackDiffers += a.getFeedback().equals(b.getFeedback()) ? 0 : 1;
            a.setFeedback(null);
            b.setFeedback(null);
            assertThat(b).as(entry.getKey()).isEqualTo(a);
        }
        // Known open bug of the feature stage (issue 4): a few TEM4CTR snapshots differ between two
        // runs over the same input. Printed for the issue notes until it is fixed and asserted zero.
        System.out.printf("feature snapshots differing between two runs: %d of %d%n", feedbackDiffers, first.size());
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

    private static CtrConfig config(LocalStack stack, String samplesTopic) {
        return CtrConfig.load(null, Map.of(
                "ctr.kafka.bootstrap-servers", stack.endpoints().kafkaBootstrap(),
                "ctr.redis.url", stack.endpoints().redisUrl(),
                "ctr.redis.key-prefix", "joins-it",
                "ctr.kafka.group-id", "joins-it-" + samplesTopic,
                "ctr.topic.auctions", "joins-it-auctions",
                "ctr.topic.impressions", "joins-it-impressions",
                "ctr.topic.clicks", "joins-it-clicks",
                "ctr.topic.training-samples", samplesTopic,
                "ctr.topic.dead-letters", "joins-it-dead-letters"));
    }

    /** Committed samples by sample id; fails on a sample id seen twice. */
    private static Map<String, byte[]> readSamples(LocalStack stack, String topic) throws Exception {
        AvroCodec<TrainingSample> codec = AvroCodec.forTopic(EventTopic.TRAINING_SAMPLES, TrainingSample.class);
        Map<String, byte[]> samples = new HashMap<>();
        CommittedRecords.read(stack.endpoints().kafkaBootstrap(), topic, value -> {
            String id = codec.decode(value).getSampleId();
            assertThat(samples.put(id, value)).as("sample %s written twice", id).isNull();
        });
        return samples;
    }
}
