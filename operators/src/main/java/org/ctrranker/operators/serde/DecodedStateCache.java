package org.ctrranker.operators.serde;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The decoded form of the keyed state values a subtask used last, so that a value read again unchanged is not
 * decoded again: the keyed state stays the only truth (bytes, off the collector's copying path), and a cached
 * object is used only when the bytes read now equal the bytes it was decoded from or encoded to. Byte equality,
 * not identity, so it holds on RocksDB too, where every read is a fresh array.
 *
 * <p>Not thread-safe (one per operator instance). {@link #take} removes the entry: a caller that changes the object
 * and then fails, or drops the state, before {@link #put} leaves nothing stale behind.
 */
public final class DecodedStateCache<K, V> {

    private record Entry<V>(byte[] bytes, V value) {}

    private final Map<K, Entry<V>> entries;
    private long hits;
    private long misses;

    /** Keeps the last {@code maxEntries} keys used. */
    public DecodedStateCache(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be at least 1, got " + maxEntries);
        }
        entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Entry<V>> eldest) {
                return size() > maxEntries;
            }
        };
    }

    /** The value of {@code bytes} for {@code key}: the cached one if it came from the same bytes, else decoded. */
    public V take(K key, byte[] bytes, Function<byte[], V> decode) {
        Entry<V> cached = entries.remove(key);
        if (cached != null && (cached.bytes == bytes || Arrays.equals(cached.bytes, bytes))) {
            hits++;
            return cached.value;
        }
        misses++;
        return decode.apply(bytes);
    }

    /** Remembers that {@code value} is what {@code bytes} (just written to {@code key}'s state) decode to. */
    public void put(K key, byte[] bytes, V value) {
        entries.put(key, new Entry<>(bytes, value));
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }
}
