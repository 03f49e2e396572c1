package org.ctrranker.operators.scoring;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.ctrranker.operators.redis.RedisKeys;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Reads back what {@link ServingWrites} publishes (layout: operators/REDIS-KEYS.md), for ad-server
 * code and {@code bin/ctr query}. Each read is one key, and keys are written whole, so a reader never
 * sees half of a ranking.
 */
public final class ServingReader {

    /** One ranked candidate. */
    public record RankedAd(String adId, double pctr, double ecpm) {}

    /** An auction's ranking, highest eCPM first, with what made it. */
    public record Ranking(String key, List<RankedAd> ads, String modelName, long modelVersion, long eventTimeMs,
            long scoredAtMs, long ttlMs) {}

    /** The scores of a user's latest scored auction; {@code ads} in eCPM order. */
    public record UserScores(String key, String auctionId, List<RankedAd> ads, String modelName, long modelVersion,
            long eventTimeMs, long scoredAtMs, long ttlMs) {}

    /** A model version's metadata (every field but the parameters), as stored. */
    public record ModelVersion(String key, Map<String, String> fields, long ttlMs) {
        public long version() {
            return Long.parseLong(fields.get("version"));
        }
    }

    private ServingReader() {}

    public static Optional<Ranking> ranking(UnifiedJedis jedis, String prefix, String auctionId) {
        String key = RedisKeys.ranking(prefix, auctionId);
        Map<String, String> h = jedis.hgetAll(key);
        if (h.isEmpty()) {
            return Optional.empty();
        }
        String[] ads = h.get(ServingWrites.FIELD_ADS).split(",");
        String[] pctr = h.get(ServingWrites.FIELD_PCTR).split(",");
        String[] ecpm = h.get(ServingWrites.FIELD_ECPM).split(",");
        List<RankedAd> ranked = new ArrayList<>(ads.length);
        for (int i = 0; i < ads.length; i++) {
            ranked.add(new RankedAd(ads[i], Double.parseDouble(pctr[i]), Double.parseDouble(ecpm[i])));
        }
        return Optional.of(new Ranking(key, ranked, h.get(ServingWrites.FIELD_MODEL_NAME),
                number(h, ServingWrites.FIELD_MODEL_VERSION), number(h, ServingWrites.FIELD_EVENT_TIME),
                number(h, ServingWrites.FIELD_SCORED_AT), jedis.pttl(key)));
    }

    public static Optional<UserScores> userScores(UnifiedJedis jedis, String prefix, String userId) {
        String key = RedisKeys.userScores(prefix, userId);
        Map<String, String> h = jedis.hgetAll(key);
        if (h.isEmpty()) {
            return Optional.empty();
        }
        List<RankedAd> ads = new ArrayList<>();
        h.forEach((field, value) -> {
            if (field.startsWith("ad:")) {
                String[] pctrAndEcpm = value.split(",");
                ads.add(new RankedAd(field.substring(3), Double.parseDouble(pctrAndEcpm[0]),
                        Double.parseDouble(pctrAndEcpm[1])));
            }
        });
        ads.sort((a, b) -> a.ecpm() != b.ecpm() ? Double.compare(b.ecpm(), a.ecpm()) : a.adId().compareTo(b.adId()));
        return Optional.of(new UserScores(key, h.get(ServingWrites.FIELD_AUCTION), ads,
                h.get(ServingWrites.FIELD_MODEL_NAME), number(h, ServingWrites.FIELD_MODEL_VERSION),
                number(h, ServingWrites.FIELD_EVENT_TIME), number(h, ServingWrites.FIELD_SCORED_AT), jedis.pttl(key)));
    }

    /** The live version's metadata ({@code :current}), empty before the first publication. */
    public static Optional<ModelVersion> liveModel(UnifiedJedis jedis, String prefix, String modelName) {
        String key = RedisKeys.modelCurrent(prefix, modelName);
        Map<String, String> h = jedis.hgetAll(key);
        return h.isEmpty() ? Optional.empty() : Optional.of(new ModelVersion(key, new TreeMap<>(h), jedis.pttl(key)));
    }

    /** Every stored version's metadata, oldest first, without reading the parameters. */
    public static List<ModelVersion> versions(UnifiedJedis jedis, String prefix, String modelName) {
        String pattern = RedisKeys.modelVersionPattern(prefix, modelName);
        List<String> keys = new ArrayList<>();
        ScanParams params = new ScanParams().match(pattern).count(1000);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = jedis.scan(cursor, params);
            keys.addAll(page.getResult());
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        List<ModelVersion> versions = new ArrayList<>();
        for (String key : keys) {
            Map<String, String> fields = new TreeMap<>();
            List<String> names = new ArrayList<>(jedis.hkeys(key));
            if (names.isEmpty()) {
                continue;
            }
            List<String> values = jedis.hmget(key, names.toArray(String[]::new));
            for (int i = 0; i < names.size(); i++) {
                if (values.get(i) != null) {
                    fields.put(names.get(i), values.get(i));
                }
            }
            if (fields.containsKey("version")) {
                versions.add(new ModelVersion(key, fields, jedis.pttl(key)));
            }
        }
        versions.sort((a, b) -> Long.compare(a.version(), b.version()));
        return versions;
    }

    /**
     * The raw parameters of a version ({@code CtrModel.snapshot()} bytes), its slices joined; empty when absent or
     * incomplete (expired, or not yet written: its {@code :v<n>} metadata comes after them).
     */
    public static Optional<byte[]> parameters(UnifiedJedis jedis, String prefix, String modelName, long version) {
        byte[] key = RedisKeys.modelParameters(prefix, modelName, version).getBytes(StandardCharsets.UTF_8);
        int slices = (int) jedis.hlen(key);
        if (slices == 0) {
            return Optional.empty();
        }
        byte[][] fields = new byte[slices][];
        for (int i = 0; i < slices; i++) {
            fields[i] = Integer.toString(i).getBytes(StandardCharsets.UTF_8);
        }
        java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
        for (byte[] slice : jedis.hmget(key, fields)) {
            if (slice == null) {
                return Optional.empty();
            }
            joined.writeBytes(slice);
        }
        return Optional.of(joined.toByteArray());
    }

    private static long number(Map<String, String> h, String field) {
        String value = h.get(field);
        return value == null || value.isEmpty() ? -1 : Long.parseLong(value);
    }
}
