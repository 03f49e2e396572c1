package org.ctrranker.operators.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The writer of {@link VersionedRedisSink}; also usable on its own (tools, tests). Not thread-safe:
 * Flink calls it from the task's mailbox thread only.
 */
public final class VersionedRedisWriter implements SinkWriter<VersionedWrite> {

    /**
     * KEYS[1] the hash; ARGV[1] version; ARGV[2] TTL in ms (0: none); ARGV[3] tie-break field ("": none);
     * ARGV[4..] field, value pairs. Replaces the whole hash (DEL first, so no field of an older layout
     * lingers) only when the stored version is missing or older, or equal with a tie-break field whose
     * new value is larger byte by byte (compared here by bytes, not with Lua's locale-dependent string
     * order, so it agrees with {@link VersionedWrite#supersedes}). Returns 1 when applied, 0 when skipped.
     */
    static final String COMPARE_AND_SET_SCRIPT = String.join("\n",
            "local function larger(a, b)",
            "  local n = math.min(#a, #b)",
            "  for i = 1, n do",
            "    local x, y = string.byte(a, i), string.byte(b, i)",
            "    if x ~= y then return x > y end",
            "  end",
            "  return #a > #b",
            "end",
            "local current = redis.call('HGET', KEYS[1], 'version')",
            "if current then",
            "  local stored, new = tonumber(current), tonumber(ARGV[1])",
            "  if stored > new then return 0 end",
            "  if stored == new then",
            "    if ARGV[3] == '' then return 0 end",
            "    local mine",
            "    for i = 4, #ARGV, 2 do if ARGV[i] == ARGV[3] then mine = ARGV[i + 1] end end",
            "    local theirs = redis.call('HGET', KEYS[1], ARGV[3])",
            "    if theirs and not larger(mine, theirs) then return 0 end",
            "  end",
            "end",
            "redis.call('DEL', KEYS[1])",
            "redis.call('HSET', KEYS[1], 'version', ARGV[1], unpack(ARGV, 4))",
            "if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end",
            "return 1");

    private final RedisEndpoint endpoint;
    private final int maxBufferedKeys;
    private final Map<String, VersionedWrite> buffered = new LinkedHashMap<>();
    private final Counter applied;
    private final Counter stale;
    private final Counter flushes;
    private Jedis jedis;
    private String scriptSha;
    private ProcessingTimeService timers;
    private long flushIntervalMs;
    private boolean closed;

    public VersionedRedisWriter(RedisEndpoint endpoint, int maxBufferedKeys, MetricGroup metrics) {
        this.endpoint = endpoint;
        this.maxBufferedKeys = maxBufferedKeys;
        this.applied = metrics == null ? new SimpleCounter() : metrics.counter("redisWritesApplied");
        this.stale = metrics == null ? new SimpleCounter() : metrics.counter("redisWritesStale");
        this.flushes = metrics == null ? new SimpleCounter() : metrics.counter("redisFlushes");
    }

    void flushEvery(ProcessingTimeService service, long intervalMs) {
        this.timers = service;
        this.flushIntervalMs = intervalMs;
        scheduleFlush();
    }

    @Override
    public void write(VersionedWrite w, Context context) throws IOException {
        write(w);
    }

    /** Buffers a write; of several writes to one key only the one Redis would end with is kept. */
    public void write(VersionedWrite w) throws IOException {
        VersionedWrite previous = buffered.get(w.key);
        if (previous == null || w.supersedes(previous)) {
            buffered.put(w.key, w);
        }
        if (buffered.size() >= maxBufferedKeys) {
            flush();
        }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        flush();
    }

    /** Sends every buffered write in one pipeline and waits for the replies. */
    public void flush() throws IOException {
        if (buffered.isEmpty()) {
            return;
        }
        List<VersionedWrite> batch = new ArrayList<>(buffered.values());
        try {
            send(batch);
        } catch (JedisDataException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
                throw new IOException("Redis rejected a versioned write: " + e.getMessage(), e);
            }
            scriptSha = null; // the server lost its script cache (restart, failover): load it again, resend
            send(batch);
        } catch (RuntimeException e) {
            closeConnection(); // reconnect on the next flush; Flink restarts from the last checkpoint
            throw new IOException("writing " + batch.size() + " keys to Redis at " + endpoint + " failed", e);
        }
        buffered.clear();
        flushes.inc();
    }

    /** Counts of writes the server applied and skipped as stale, since this writer started. */
    public long appliedCount() {
        return applied.getCount();
    }

    public long staleCount() {
        return stale.getCount();
    }

    private void send(List<VersionedWrite> batch) {
        Jedis connection = connection();
        List<Response<Object>> replies = new ArrayList<>(batch.size());
        byte[] sha = scriptSha.getBytes(StandardCharsets.UTF_8);
        try (Pipeline pipeline = connection.pipelined()) {
            for (VersionedWrite w : batch) {
                List<byte[]> args = new ArrayList<>(3 + 2 * w.fieldNames.length);
                args.add(Long.toString(w.version).getBytes(StandardCharsets.UTF_8));
                args.add(Long.toString(Math.max(0, w.ttlMs)).getBytes(StandardCharsets.UTF_8));
                args.add((w.tieBreakField == null ? "" : w.tieBreakField).getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < w.fieldNames.length; i++) {
                    args.add(w.fieldNames[i].getBytes(StandardCharsets.UTF_8));
                    args.add(w.fieldValues[i]);
                }
                replies.add(pipeline.evalsha(sha, List.of(w.key.getBytes(StandardCharsets.UTF_8)), args));
            }
            pipeline.sync();
        }
        for (Response<Object> reply : replies) {
            Object result = reply.get(); // throws the server's error for that command, if any
            if (Long.valueOf(1L).equals(result)) {
                applied.inc();
            } else {
                stale.inc();
            }
        }
    }

    private Jedis connection() {
        if (jedis == null) {
            jedis = endpoint.connect();
        }
        if (scriptSha == null) {
            scriptSha = jedis.scriptLoad(COMPARE_AND_SET_SCRIPT);
        }
        return jedis;
    }

    private void scheduleFlush() {
        timers.registerTimer(timers.getCurrentProcessingTime() + flushIntervalMs, now -> {
            if (!closed) {
                flush();
                scheduleFlush();
            }
        });
    }

    private void closeConnection() {
        if (jedis != null) {
            try {
                jedis.close();
            } catch (RuntimeException ignored) {
                // the connection is broken already; nothing more to release
            }
            jedis = null;
            scriptSha = null;
        }
    }

    @Override
    public void close() {
        closed = true;
        closeConnection();
    }
}
