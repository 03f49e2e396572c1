package org.ctrranker.cli.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.VersionedRedisWriter;
import org.ctrranker.operators.redis.VersionedWrite;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * The Redis sink's writer alone, outside Flink: {@code count} ranking-sized versioned writes to
 * distinct keys through one pipelined {@link VersionedRedisWriter}, the ceiling the job's sink can reach.
 * Redis's own time in the compare-and-set script per write ({@code INFO commandstats}) bounds what any
 * client could reach on one server: Redis runs scripts on one thread. On a cluster the bound is the busiest
 * primary's.
 */
final class RawRedisWrites {

    private RawRedisWrites() {}

    static Map<String, Object> run(RedisEndpoint endpoint, int count, int maxBufferedKeys) throws Exception {
        return run(endpoint, List.of(new HostAndPort(endpoint.host(), endpoint.port())), count, maxBufferedKeys, 1);
    }

    /**
     * As {@link #run(RedisEndpoint, int, int)}, split over {@code writers} writers on threads of their own (as the
     * job's sink subtasks write), with Redis's own time summed over {@code servers} (a cluster's primaries).
     */
    static Map<String, Object> run(RedisEndpoint endpoint, List<HostAndPort> servers, int count, int maxBufferedKeys,
            int writers) throws Exception {
        VersionedWrite[] writes = new VersionedWrite[count];
        long version = System.currentTimeMillis();
        for (int i = 0; i < count; i++) {
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("ads", "ad-00012,ad-00007,ad-00131,ad-00054,ad-00200,ad-00018,ad-00091,ad-00003,ad-00150,ad-00077");
            fields.put("pctr", "0.0412,0.0388,0.0301,0.0290,0.0244,0.0230,0.0199,0.0170,0.0150,0.0101");
            fields.put("ecpm", "38100,34900,26400,25000,21000,19900,15100,12000,9900,7500");
            fields.put("event_time_ms", Long.toString(version));
            fields.put("model_name", "ctr");
            fields.put("model_version", "7");
            fields.put("scored_at_ms", Long.toString(version));
            writes[i] = VersionedWrite.ofText("bench:rank:{b" + i + "}", version, 60_000, fields);
        }
        for (HostAndPort server : servers) {
            try (Jedis jedis = endpoint.connect(server)) {
                jedis.configResetStat();
            }
        }
        List<VersionedRedisWriter> opened = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(writers);
        try {
            for (int w = 0; w < writers; w++) {
                opened.add(new VersionedRedisWriter(endpoint, maxBufferedKeys, null));
            }
            List<Future<?>> done = new ArrayList<>();
            long start = System.nanoTime();
            for (int w = 0; w < writers; w++) {
                VersionedRedisWriter writer = opened.get(w);
                int first = w;
                done.add(threads.submit(() -> {
                    for (int i = first; i < count; i += writers) {
                        writer.write(writes[i]);
                    }
                    writer.flush();
                    return null;
                }));
            }
            for (Future<?> writer : done) {
                writer.get();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("writes", count);
            report.put("writers", writers);
            report.put("pipeline_keys", maxBufferedKeys);
            report.put("applied", opened.stream().mapToLong(VersionedRedisWriter::appliedCount).sum());
            report.put("writes_per_s", Math.round(count / seconds));
            if (endpoint.replicaAcks() > 0) {
                report.put("unreplicated", opened.stream().mapToLong(VersionedRedisWriter::unreplicatedCount).sum());
            }
            double totalUs = 0;
            double busiestUs = 0;
            for (HostAndPort server : servers) {
                try (Jedis jedis = endpoint.connect(server)) {
                    double us = RedisCommandStats.value(jedis.info("commandstats"), "evalsha", "usec");
                    totalUs += us;
                    busiestUs = Math.max(busiestUs, us);
                }
            }
            double perWrite = totalUs / count;
            report.put("server_us_per_write", Math.round(perWrite * 100) / 100.0);
            // each server runs its scripts on one thread: the busiest one's time bounds the rate
            report.put("server_bound_writes_per_s", busiestUs > 0 ? Math.round(count / (busiestUs / 1e6)) : null);
            return report;
        } finally {
            threads.shutdownNow();
            opened.forEach(VersionedRedisWriter::close);
        }
    }
}
