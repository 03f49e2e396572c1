package org.ctrranker.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Keys index every trained embedding row and wide weight, so they must never change for a given id. */
class FeatureHashTest {

    /** FNV-1a 64 over the namespace's UTF-8 bytes, 0x1f, the value's UTF-8 bytes; then the finaliser. */
    private static long reference(String namespace, String value) {
        long h = 0xcbf29ce484222325L;
        for (byte b : namespace.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h = (h ^ 0x1f) * 0x100000001b3L;
        for (byte b : (value == null ? "" : value).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h = (h ^ (h >>> 33)) * 0xff51afd7ed558ccdL;
        h = (h ^ (h >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return h ^ (h >>> 33);
    }

    @Test
    void keysOfKnownIdsNeverChange() {
        // trained models hold rows at these keys' buckets
        assertThat(FeatureHash.item("ad-1")).isEqualTo(reference("item", "ad-1"));
        assertThat(FeatureHash.of("user", "u1")).isEqualTo(reference("user", "u1"));
        assertThat(Long.toHexString(FeatureHash.item("N55528"))).isEqualTo(Long.toHexString(reference("item", "N55528")));
        assertThat(FeatureHash.of("category", null)).isEqualTo(FeatureHash.of("category", ""));
    }

    @Test
    void everyStringHashesAsItsUtf8Bytes() {
        Random random = new Random(3);
        char[] alphabet = {'a', 'Z', '0', '-', '_', '\u0000', '\u007f', '\u0080', 'é', '中', '\uD83D', '\uDE00'};
        for (int i = 0; i < 20_000; i++) {
            StringBuilder value = new StringBuilder();
            for (int k = random.nextInt(12); k > 0; k--) {
                value.append(alphabet[random.nextInt(alphabet.length)]);
            }
            String namespace = random.nextBoolean() ? FeatureHash.ITEM : "ns" + alphabet[random.nextInt(alphabet.length)];
            assertThat(FeatureHash.of(namespace, value.toString())).as("%s / %s", namespace, value)
                    .isEqualTo(reference(namespace, value.toString()));
            if (namespace.equals(FeatureHash.ITEM)) {
                assertThat(FeatureHash.item(value.toString())).isEqualTo(reference(namespace, value.toString()));
            }
        }
    }
}
