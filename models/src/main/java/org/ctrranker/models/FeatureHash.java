package org.ctrranker.models;

import java.nio.charset.StandardCharsets;

/**
 * 64-bit keys for id features: the namespace (field) is mixed in, so equal strings in different
 * fields get different embeddings, while items share one namespace wherever they appear (as the
 * candidate and in the click and unclick histories), so TEM4CTR compares like with like.
 */
public final class FeatureHash {

    /** The namespace of item ids (ads, news): use it for the target field and the histories. */
    public static final String ITEM = "item";

    private FeatureHash() {}

    public static long of(String namespace, String value) {
        long h = 0xcbf29ce484222325L;
        for (byte b : namespace.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h = (h ^ 0x1f) * 0x100000001b3L;
        for (byte b : (value == null ? "" : value).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(h);
    }

    public static long item(String itemId) {
        return of(ITEM, itemId);
    }

    /** The embedding row of a key; row 0 is reserved for padding. */
    public static long bucket(long key, int buckets) {
        return 1 + Math.floorMod(mix(key), buckets - 1);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
