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
        return mix(append((append(OFFSET_BASIS, namespace) ^ SEPARATOR) * PRIME, value == null ? "" : value));
    }

    public static long item(String itemId) {
        return mix(append(ITEM_PREFIX, itemId == null ? "" : itemId));
    }

    private static final long OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;
    private static final int SEPARATOR = 0x1f;
    /** The item namespace and separator, hashed once: histories hash hundreds of item ids per sample. */
    private static final long ITEM_PREFIX = (append(OFFSET_BASIS, ITEM) ^ SEPARATOR) * PRIME;

    /**
     * FNV-1a over {@code s}'s UTF-8 bytes. ASCII characters are their own bytes, so ids (nearly always ASCII)
     * are hashed from their characters without encoding them first.
     */
    private static long append(long h, String s) {
        long x = h;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    h = (h ^ (b & 0xff)) * PRIME;
                }
                return h;
            }
            x = (x ^ c) * PRIME;
        }
        return x;
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
