package org.ctrranker.operators.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.ctrranker.events.RecentExposure;
import org.ctrranker.events.UserFeedbackSnapshot;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteDeltaTest {

    private final ByteDelta delta = new ByteDelta();

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void makesTheTargetFromItsBaseForEditsOfEveryKindAndSize(int seed) {
        Random random = new Random(seed);
        for (int round = 0; round < 400; round++) {
            byte[] base = randomBytes(random, random.nextInt(round % 10 == 0 ? 12 : 4_000));
            byte[] target = edited(random, base, random.nextInt(6));
            byte[] written = delta.encode(base, target, 1 + random.nextInt(255));
            assertThat(ByteDelta.isDelta(written)).isTrue();
            assertThat(ByteDelta.apply(base, written)).as("round %d", round).isEqualTo(target);
        }
    }

    @Test
    void aSnapshotOneExposureLaterTakesAFewBytesAndTheDepthItWasGiven() {
        UserFeedbackSnapshot earlier = snapshot(300);
        UserFeedbackSnapshot later = snapshot(301);
        byte[] base = UserFeedbackFunction.encode(earlier);
        byte[] target = UserFeedbackFunction.encode(later);
        byte[] written = delta.encode(base, target, 7);
        assertThat(ByteDelta.apply(base, written)).isEqualTo(target);
        assertThat(ByteDelta.depth(written)).isEqualTo(7);
        assertThat(written.length).as("%d bytes, of %d whole", written.length, target.length).isLessThan(target.length / 100);
        assertThat(ByteDelta.isDelta(target)).as("Avro's single-object bytes are not a delta").isFalse();
    }

    @Test
    void failsOnABaseNotItsOwnInsteadOfMakingOtherBytes() {
        Random random = new Random(9);
        byte[] base = randomBytes(random, 500);
        byte[] target = edited(random, base, 3);
        byte[] written = delta.encode(base, target, 1);
        byte[] otherBase = base.clone();
        otherBase[250] ^= 1;
        byte[] shortBase = java.util.Arrays.copyOf(base, 100);
        assertThatThrownBy(() -> ByteDelta.apply(otherBase, written)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not its own");
        assertThatThrownBy(() -> ByteDelta.apply(shortBase, written)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ByteDelta.apply(base, target)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> delta.encode(base, target, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCorruptedLengthFailsBeforeItsArrayIsMade() {
        Random random = new Random(5);
        byte[] base = randomBytes(random, 500);
        byte[] written = delta.encode(base, edited(random, base, 2), 1);
        byte[] corrupted = new byte[written.length + 4];
        System.arraycopy(written, 0, corrupted, 0, 3);
        // the length varint (at byte 3, one or two bytes here) replaced by five bytes claiming about 2 GB
        int lengthBytes = (written[3] & 0x80) != 0 ? 2 : 1;
        byte[] huge = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
        System.arraycopy(huge, 0, corrupted, 3, 5);
        System.arraycopy(written, 3 + lengthBytes, corrupted, 8, written.length - 3 - lengthBytes);
        corrupted = java.util.Arrays.copyOf(corrupted, 8 + written.length - 3 - lengthBytes);
        byte[] input = corrupted;
        assertThatThrownBy(() -> ByteDelta.apply(base, input)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("claims 2147483647 bytes");
    }

    /** The first {@code exposures} of one user's stream, most recent first, as of the last. */
    private static UserFeedbackSnapshot snapshot(int exposures) {
        List<RecentExposure> recent = new ArrayList<>();
        for (int i = exposures - 1; i >= 0; i--) {
            long time = 1_767_571_200_000L + i * 1_000L;
            recent.add(new RecentExposure("ad-" + (i * 7 % 50), "cat-" + (i % 9), time, i % 11 == 0 ? time + 500 : null));
        }
        return UserFeedbackSnapshot.newBuilder().setAsOfMs(1_767_571_200_000L + exposures * 1_000L)
                .setClicks(List.of()).setRecentUnclicks(List.of()).setClickCount(exposures / 11)
                .setRecentExposures(recent).build();
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        // a small alphabet, so that runs repeat within a value as in encoded ids and times
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (random.nextBoolean() ? random.nextInt(4) : random.nextInt(256));
        }
        return bytes;
    }

    /** {@code base} with {@code edits} insertions, deletions and overwrites at random places. */
    private static byte[] edited(Random random, byte[] base, int edits) {
        List<Byte> bytes = new ArrayList<>();
        for (byte b : base) {
            bytes.add(b);
        }
        for (int e = 0; e < edits; e++) {
            int at = bytes.isEmpty() ? 0 : random.nextInt(bytes.size());
            int run = 1 + random.nextInt(40);
            switch (random.nextInt(3)) {
                case 0 -> {
                    for (byte b : randomBytes(random, run)) {
                        bytes.add(at, b);
                    }
                }
                case 1 -> bytes.subList(at, Math.min(bytes.size(), at + run)).clear();
                default -> {
                    for (int i = at; i < Math.min(bytes.size(), at + run); i++) {
                        bytes.set(i, (byte) random.nextInt(256));
                    }
                }
            }
        }
        byte[] out = new byte[bytes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes.get(i);
        }
        return out;
    }
}
