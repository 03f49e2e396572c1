package org.ctrranker.operators.redis;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One replay-safe write of a Redis hash: the whole hash at {@code key} becomes {@code fields} plus the
 * reserved field {@code version}, unless Redis already holds a version at least as new (then nothing
 * changes). {@code ttlMs} is applied with every accepted write. Fields are kept in name order so that
 * the same write always produces the same bytes in Redis.
 *
 * <p>A Flink POJO (public fields, no-arg constructor, arrays only) so it travels without Kryo.
 */
public final class VersionedWrite {

    /** The reserved hash field holding the version (decimal). */
    public static final String VERSION_FIELD = "version";

    public String key;
    /** Event time or another monotonic number of the state written; non-negative, below 2^53 (Lua number). */
    public long version;
    public long ttlMs;
    public String[] fieldNames;
    public byte[][] fieldValues;

    public VersionedWrite() {}

    public static VersionedWrite of(String key, long version, long ttlMs, Map<String, byte[]> fields) {
        if (version < 0 || version >= (1L << 53)) {
            throw new IllegalArgumentException("version must be in [0, 2^53): " + version);
        }
        if (fields.containsKey(VERSION_FIELD)) {
            throw new IllegalArgumentException("field name '" + VERSION_FIELD + "' is reserved");
        }
        SortedMap<String, byte[]> sorted = new TreeMap<>(fields);
        VersionedWrite w = new VersionedWrite();
        w.key = key;
        w.version = version;
        w.ttlMs = ttlMs;
        w.fieldNames = sorted.keySet().toArray(new String[0]);
        w.fieldValues = sorted.values().toArray(new byte[0][]);
        return w;
    }

    /** Text fields (UTF-8). */
    public static VersionedWrite ofText(String key, long version, long ttlMs, Map<String, String> fields) {
        TreeMap<String, byte[]> bytes = new TreeMap<>();
        fields.forEach((k, v) -> bytes.put(k, v.getBytes(StandardCharsets.UTF_8)));
        return of(key, version, ttlMs, bytes);
    }

    public byte[] field(String name) {
        int i = Arrays.binarySearch(fieldNames, name);
        return i < 0 ? null : fieldValues[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VersionedWrite w && w.key.equals(key) && w.version == version && w.ttlMs == ttlMs
                && Arrays.equals(w.fieldNames, fieldNames) && Arrays.deepEquals(w.fieldValues, fieldValues);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Long.hashCode(version);
    }

    @Override
    public String toString() {
        return "VersionedWrite{" + key + " v" + version + " " + Arrays.toString(fieldNames) + "}";
    }
}
