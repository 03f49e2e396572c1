package org.ctrranker.operators.features;

import java.util.Arrays;
import java.util.Objects;

/**
 * An impression sample's feedback snapshot on its own, as the user feedback stage detaches it ({@link
 * UserFeatures#attachDetached}): the single-object Avro bytes of {@link UserFeedbackFunction#encode}, keyed by the
 * sample's user and impression. It waits in {@code FeedbackRejoin} while the sample waits for its label. A Flink POJO.
 */
public final class SampleFeedback {

    public String userId;
    public String impressionId;
    public long impressionTimeMs;
    public byte[] bytes;

    public SampleFeedback() {}

    public SampleFeedback(String userId, String impressionId, long impressionTimeMs, byte[] bytes) {
        this.userId = userId;
        this.impressionId = impressionId;
        this.impressionTimeMs = impressionTimeMs;
        this.bytes = bytes;
    }

    public String getUserId() {
        return userId;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SampleFeedback other && Objects.equals(userId, other.userId)
                && Objects.equals(impressionId, other.impressionId) && impressionTimeMs == other.impressionTimeMs
                && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(userId, impressionId, impressionTimeMs) * 31 + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "SampleFeedback{" + userId + ", " + impressionId + " at " + impressionTimeMs + ", " + bytes.length
                + " bytes}";
    }
}
