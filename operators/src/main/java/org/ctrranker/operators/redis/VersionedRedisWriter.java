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
     * Writes up to {@link #KEYS_PER_CALL} hashes. KEYS: the hashes; ARGV, for each key in turn: version, TTL in
     * ms (0: none), tie-break field ("": none), the number of fields n, then n field, value pairs. A hash is
     * replaced whole (DEL first, so no field of an older layout lingers) only when its stored version is
     * missing or older, or equal with a tie-break field whose new value is larger byte by byte (compared here
     * by bytes, not with Lua's locale-dependent string order, so it agrees with {@link VersionedWrite#supersedes}).
     * A hash without a version field (none the job wrote) is written over without the DEL: most keys are new
     * (rankings, first scores), and the DEL cost about a twelfth of the script's server time per key.
     * Returns, per key, 1 when applied and 0 when skipped. Many keys per call: the per-command cost of
     * EVALSHA, not the script, bounded the one-key version at about 75,000 writes/s.
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
            "local function newer(key, version, tie, first, last)",
            "  local current = redis.call('HGET', key, 'version')",
            "  if not current then return 'absent' end",
            "  local stored, new = tonumber(current), tonumber(version)",
            "  if stored ~= new then return stored < new end",
            "  if tie == '' then return false end",
            "  local mine",
            "  for i = first, last, 2 do if ARGV[i] == tie then mine = ARGV[i + 1] end end",
            "  local theirs = redis.call('HGET', key, tie)",
            "  return not theirs or larger(mine, theirs)",
            "end",
            "local applied = {}",
            "local a = 1",
            "for k = 1, #KEYS do",
            "  local version, ttl, tie = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2]",
            "  local first = a + 4",
            "  local last = a + 3 + 2 * tonumber(ARGV[a + 3])",
            "  a = last + 1",
            "  local verdict = newer(KEYS[k], version, tie, first, last)",
            "  if verdict then",
            "    if verdict ~= 'absent' then redis.call('DEL', KEYS[k]) end",
            "    redis.call('HSET', KEYS[k], 'version', version, unpack(ARGV, first, last))",
            "    if ttl > 0 then redis.call('PEXPIRE', KEYS[k], ttl) end",
            "    applied[k] = 1",
            "  else",
            "    applied[k] = 0",
            "  end",
            "end",
            "return applied");

    /**
     * Keys per script call: large enough that the call's own cost is spread thin, small enough that one call
     * holds the (single-threaded) server well under a millisecond.
     */
    static final int KEYS_PER_CALL = 100;

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
        List<Response<Object>> replies = new ArrayList<>(batch.size() / KEYS_PER_CALL + 1);
        byte[] sha = scriptSha.getBytes(StandardCharsets.UTF_8);
        try (Pipeline pipeline = connection.pipelined()) {
            for (int from = 0; from < batch.size(); from += KEYS_PER_CALL) {
                List<VersionedWrite> call = batch.subList(from, Math.min(batch.size(), from + KEYS_PER_CALL));
                List<byte[]> keys = new ArrayList<>(call.size());
                List<byte[]> args = new ArrayList<>();
                for (VersionedWrite w : call) {
                    keys.add(w.key.getBytes(StandardCharsets.UTF_8));
                    args.add(Long.toString(w.version).getBytes(StandardCharsets.UTF_8));
                    args.add(Long.toString(Math.max(0, w.ttlMs)).getBytes(StandardCharsets.UTF_8));
                    args.add((w.tieBreakField == null ? "" : w.tieBreakField).getBytes(StandardCharsets.UTF_8));
                    args.add(Integer.toString(w.fieldNames.length).getBytes(StandardCharsets.UTF_8));
                    for (int i = 0; i < w.fieldNames.length; i++) {
                        args.add(w.fieldNames[i].getBytes(StandardCharsets.UTF_8));
                        args.add(w.fieldValues[i]);
                    }
                }
                replies.add(pipeline.evalsha(sha, keys, args));
            }
            pipeline.sync();
        }
        for (Response<Object> reply : replies) {
            // throws the server's error for that call, if any
            for (Object result : (List<?>) reply.get()) {
                if (Long.valueOf(1L).equals(result)) {
                    applied.inc();
                } else {
                    stale.inc();
                }
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
