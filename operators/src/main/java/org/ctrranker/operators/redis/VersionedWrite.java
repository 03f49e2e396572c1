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
 * <p>Equal versions: by default the stored hash stays (a replay changes nothing). A key that several
 * states may reach at the same version (a user's scores from two auctions in the same millisecond) names
 * a {@link #tieBreakField}: then the write whose value of that field is larger (bytes, unsigned) wins, so
 * the key ends the same whatever order the writes came in.
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
    /** One of {@link #fieldNames} deciding between writes of equal version; null: the first stays. */
    public String tieBreakField;

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

    /** This write, with equal versions decided by the value of {@code field} (one of its fields). */
    public VersionedWrite tieBreakOn(String field) {
        if (field(field) == null) {
            throw new IllegalArgumentException("tie-break field '" + field + "' is not among " + Arrays.toString(fieldNames));
        }
        tieBreakField = field;
        return this;
    }

    /** Whether this write replaces {@code stored} (same key) under the versioned compare-and-set. */
    public boolean supersedes(VersionedWrite stored) {
        if (version != stored.version) {
            return version > stored.version;
        }
        if (tieBreakField == null) {
            return false;
        }
        byte[] mine = field(tieBreakField);
        byte[] theirs = stored.field(tieBreakField);
        return theirs == null || Arrays.compareUnsigned(mine, theirs) > 0;
    }

    public byte[] field(String name) {
        int i = Arrays.binarySearch(fieldNames, name);
        return i < 0 ? null : fieldValues[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VersionedWrite w && w.key.equals(key) && w.version == version && w.ttlMs == ttlMs
                && Arrays.equals(w.fieldNames, fieldNames) && Arrays.deepEquals(w.fieldValues, fieldValues)
                && java.util.Objects.equals(w.tieBreakField, tieBreakField);
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
