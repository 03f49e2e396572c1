package org.ctrranker.operators.features;

import java.util.Arrays;
import java.util.Objects;

/**
 * A user's feedback snapshot as the scorers take it: the single-object Avro bytes of
 * {@link UserFeedbackFunction#encode} (what the Redis mirror holds too). The scorers keep snapshots as these bytes and
 * decode one only when an auction reads it, so the stage encodes each once instead of the network serialising a
 * record the scorer then decodes and encodes again. A Flink POJO.
 */
public final class EncodedSnapshot {

    public String userId;
    public byte[] bytes;

    public EncodedSnapshot() {}

    public EncodedSnapshot(String userId, byte[] bytes) {
        this.userId = userId;
        this.bytes = bytes;
    }

    public String getUserId() {
        return userId;
    }

    /** The snapshot's as_of_ms, read from the bytes without decoding the rest. */
    public long asOfMs() {
        return UserFeedbackFunction.asOfMs(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedSnapshot other && Objects.equals(userId, other.userId)
                && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hashCode(userId) + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "EncodedSnapshot{" + userId + ", as of " + asOfMs() + ", " + bytes.length + " bytes}";
    }
}
