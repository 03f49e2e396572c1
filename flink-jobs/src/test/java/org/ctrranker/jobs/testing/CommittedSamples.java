package org.ctrranker.jobs.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
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
        Map<String, byte[]> samples = new HashMap<>();
        try {
            CommittedRecords.read(bootstrap, topic, value -> {
                String id = decode(value).getSampleId();
                assertThat(samples.put(id, value)).as("sample %s written twice", id).isNull();
            });
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + topic, e);
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
