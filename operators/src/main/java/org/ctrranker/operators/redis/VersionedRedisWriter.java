package org.ctrranker.operators.redis;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The writer of {@link VersionedRedisSink}; also usable on its own (tools, tests). Writes wait in a buffer
 * (per key only the one Redis would end with) that a sender thread of its own sends, in one pipeline per server (per
 * primary of a Redis Cluster), once the oldest has waited {@code lingerMs}, {@code maxBufferedKeys} keys wait, or
 * {@link #flush()} asks. With
 * a linger of 0 a write is sent as soon as the sender is free, and the writes that came in while a pipeline
 * was in flight make the next one: a ranking reaches Redis about one round trip after it was scored at low
 * rates, and the batches grow with the rate, where a flush timer on the task's thread added up to its
 * interval to every write and stalled the task for each round trip. {@link #write} blocks while
 * {@code maxBufferedKeys} keys wait (back pressure); a failed send fails the next {@link #write} or
 * {@link #flush()}. One thread calls write, flush and close (Flink's mailbox thread).
 */
public final class VersionedRedisWriter implements SinkWriter<VersionedWrite> {

    private static final Logger LOG = LoggerFactory.getLogger(VersionedRedisWriter.class);

    /**
     * Writes up to {@link #KEYS_PER_CALL} hashes: {@code keys[k]} (set by the script's first line) with ARGV from
     * {@code a}, for each key in turn: version, TTL in ms (0: none), tie-break field ("": none), the number of fields
     * n, then n field, value pairs. A hash is replaced whole (DEL first, so no field of an older layout lingers) only
     * when its stored version is missing or older, or equal with a tie-break field whose new value is larger byte by
     * byte (compared here by bytes, not with Lua's locale-dependent string order, so it agrees with
     * {@link VersionedWrite#supersedes}). A hash without a version field (none the job wrote) is written over without
     * the DEL: most keys are new (rankings, first scores), and the DEL cost about a twelfth of the script's server
     * time per key. Returns, per key, 1 when applied and 0 when skipped. Many keys per call: the per-command cost of
     * EVALSHA, not the script, bounded the one-key version at about 75,000 writes/s.
     */
    private static final String COMPARE_AND_SET_BODY = String.join("\n",
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
            "for k = 1, #keys do",
            "  local version, ttl, tie = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2]",
            "  local first = a + 4",
            "  local last = a + 3 + 2 * tonumber(ARGV[a + 3])",
            "  a = last + 1",
            "  local verdict = newer(keys[k], version, tie, first, last)",
            "  if verdict then",
            "    if verdict ~= 'absent' then redis.call('DEL', keys[k]) end",
            "    redis.call('HSET', keys[k], 'version', version, unpack(ARGV, first, last))",
            "    if ttl > 0 then redis.call('PEXPIRE', keys[k], ttl) end",
            "    applied[k] = 1",
            "  else",
            "    applied[k] = 0",
            "  end",
            "end",
            "return applied");

    /** On one server the hashes are the call's KEYS and their arguments start at ARGV[1]. */
    static final String COMPARE_AND_SET_SCRIPT = "local keys, a = KEYS, 1\n" + COMPARE_AND_SET_BODY;

    /**
     * On a Redis Cluster a call carries the keys of many slots on one primary, and a server refuses declared KEYS
     * of more than one slot (CROSSSLOT) whatever the script's flags. So the call declares none: ARGV[1] is the number
     * of keys n, ARGV[2..n+1] the keys, their arguments follow; the flag (Redis 7.0 and later) lets the script touch
     * keys of several slots, and a key whose slot this primary no longer serves fails the call ("non local key"),
     * which the writer treats as a moved slot.
     */
    static final String CLUSTER_COMPARE_AND_SET_SCRIPT = "#!lua flags=allow-cross-slot-keys\n"
            + "local n = tonumber(ARGV[1])\n"
            + "local keys, a = {unpack(ARGV, 2, n + 1)}, n + 2\n" + COMPARE_AND_SET_BODY;

    /**
     * Keys per script call: large enough that the call's own cost is spread thin, small enough that one call
     * holds the (single-threaded) server well under a millisecond.
     */
    static final int KEYS_PER_CALL = 100;

    /** Linger of a writer that sends only when its buffer is full or on {@link #flush()}. */
    public static final long SEND_ON_FLUSH = Long.MAX_VALUE;

    private final RedisEndpoint endpoint;
    private final int maxBufferedKeys;
    private final long lingerNanos;
    private final Counter applied;
    private final Counter stale;
    private final Counter flushes;
    /** Writes fewer replicas than {@link RedisEndpoint#replicaAcks()} had acknowledged when the wait ended. */
    private final Counter unreplicated;
    private final Thread sender;

    private final Object lock = new Object();
    /** Guarded by {@link #lock}, as are the fields below it. */
    private Map<String, VersionedWrite> buffered = new LinkedHashMap<>();
    private long oldestBufferedAtNanos;
    private boolean sending;
    private boolean flushRequested;
    private Exception failure;
    private boolean closed;

    /** Only the sender thread uses the connections (and {@link #close} once the sender has ended). */
    private final RedisNodes nodes;
    /** The connections whose server has the script loaded (by identity: one per node). */
    private final Set<Jedis> scriptLoaded = Collections.newSetFromMap(new IdentityHashMap<>());
    /**
     * The primaries that had fewer replicas connected than {@link RedisEndpoint#replicaAcks()} when a wait for them
     * fell short (by identity, as {@link #scriptLoaded}): pipelines to them skip the wait until enough are back.
     */
    private final Set<Jedis> shortOfReplicas = Collections.newSetFromMap(new IdentityHashMap<>());
    private final String script;
    private byte[] scriptSha;

    /** A writer that sends when {@code maxBufferedKeys} keys wait or on {@link #flush()}. */
    public VersionedRedisWriter(RedisEndpoint endpoint, int maxBufferedKeys, MetricGroup metrics) {
        this(endpoint, maxBufferedKeys, SEND_ON_FLUSH, metrics);
    }

    /** {@code lingerMs}: how long the oldest buffered write waits for others to share its pipeline. */
    public VersionedRedisWriter(RedisEndpoint endpoint, int maxBufferedKeys, long lingerMs, MetricGroup metrics) {
        if (maxBufferedKeys < 1 || lingerMs < 0) {
            throw new IllegalArgumentException("maxBufferedKeys must be positive and lingerMs not negative");
        }
        this.endpoint = endpoint;
        this.maxBufferedKeys = maxBufferedKeys;
        this.lingerNanos = lingerMs == SEND_ON_FLUSH ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(lingerMs);
        this.applied = metrics == null ? new SimpleCounter() : metrics.counter("redisWritesApplied");
        this.stale = metrics == null ? new SimpleCounter() : metrics.counter("redisWritesStale");
        this.flushes = metrics == null ? new SimpleCounter() : metrics.counter("redisFlushes");
        this.unreplicated = metrics == null ? new SimpleCounter() : metrics.counter("redisWritesUnreplicated");
        this.nodes = new RedisNodes(endpoint);
        this.script = endpoint.cluster() ? CLUSTER_COMPARE_AND_SET_SCRIPT : COMPARE_AND_SET_SCRIPT;
        this.sender = new Thread(this::sendWhileOpen, "redis-writer " + endpoint);
        sender.setDaemon(true);
        sender.start();
    }

    @Override
    public void write(VersionedWrite w, Context context) throws IOException {
        write(w);
    }

    /** Buffers a write; of several writes to one key only the one Redis would end with is kept. */
    public void write(VersionedWrite w) throws IOException {
        synchronized (lock) {
            while (buffered.size() >= maxBufferedKeys && !buffered.containsKey(w.key)) {
                throwIfFailedOrClosed();
                await();
            }
            throwIfFailedOrClosed();
            VersionedWrite previous = buffered.get(w.key);
            if (previous == null || w.supersedes(previous)) {
                if (buffered.isEmpty()) {
                    oldestBufferedAtNanos = System.nanoTime();
                }
                buffered.put(w.key, w);
                lock.notifyAll();
            }
        }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        flush();
    }

    /** Returns once every write handed in so far is in Redis (or was skipped as stale there). */
    public void flush() throws IOException {
        synchronized (lock) {
            flushRequested = true;
            lock.notifyAll();
            try {
                while (!buffered.isEmpty() || sending) {
                    throwIfFailedOrClosed();
                    await();
                }
                throwIfFailedOrClosed();
            } finally {
                flushRequested = false;
            }
        }
    }

    /** Counts of writes the server applied and skipped as stale, since this writer started. */
    public long appliedCount() {
        synchronized (lock) {
            return applied.getCount();
        }
    }

    public long staleCount() {
        synchronized (lock) {
            return stale.getCount();
        }
    }

    /** Writes sent that fewer replicas than the endpoint asks for had when the wait for them ended. */
    public long unreplicatedCount() {
        synchronized (lock) {
            return unreplicated.getCount();
        }
    }

    private void throwIfFailedOrClosed() throws IOException {
        if (failure != null) {
            throw new IOException("writing to Redis at " + endpoint + " failed: " + failure.getMessage(), failure);
        }
        if (closed) {
            throw new IllegalStateException("the Redis writer is closed");
        }
    }

    private void await() throws IOException {
        try {
            lock.wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing to Redis at " + endpoint);
        }
    }

    private void sendWhileOpen() {
        try {
            while (true) {
                List<VersionedWrite> batch = nextBatch();
                if (batch == null) {
                    return;
                }
                send(batch);
                synchronized (lock) {
                    sending = false;
                    flushes.inc();
                    lock.notifyAll();
                }
            }
        } catch (InterruptedException e) {
            // closed while waiting
        } catch (Exception e) {
            closeConnections(); // Flink restarts the job from its last checkpoint, which replays these writes
            synchronized (lock) {
                failure = e;
                sending = false;
                lock.notifyAll();
            }
        }
    }

    /** Waits until the buffer is due and takes it; null once closed. */
    private List<VersionedWrite> nextBatch() throws InterruptedException {
        synchronized (lock) {
            while (!closed) {
                if (!buffered.isEmpty()) {
                    long waited = System.nanoTime() - oldestBufferedAtNanos;
                    if (flushRequested || buffered.size() >= maxBufferedKeys || waited >= lingerNanos) {
                        List<VersionedWrite> batch = new ArrayList<>(buffered.values());
                        buffered = new LinkedHashMap<>();
                        sending = true;
                        lock.notifyAll();
                        return batch;
                    }
                    TimeUnit.NANOSECONDS.timedWait(lock, lingerNanos - waited);
                } else {
                    lock.wait();
                }
            }
            return null;
        }
    }

    /**
     * Sends the batch; when a cluster's slot has moved (or is moving) since the slot map was loaded, a Sentinel-watched
     * primary is failing over, or a server lost its scripts, connects again and sends the whole batch again: the
     * compare-and-set makes a key written twice the same as once (it then counts as stale the second time).
     */
    private void send(List<VersionedWrite> batch) throws IOException {
        TopologyRetry retry = new TopologyRetry();
        while (true) {
            try {
                sendOnce(batch);
                return;
            } catch (RuntimeException e) {
                String message = e.getMessage() == null ? "" : e.getMessage();
                if (e instanceof JedisDataException && message.startsWith("NOSCRIPT")) {
                    scriptLoaded.clear(); // a restart or failover emptied the server's script cache
                } else if (TopologyRetry.mayPass(endpoint, e)) {
                    closeConnections();
                } else if (e instanceof JedisDataException) {
                    throw new IOException("Redis rejected a versioned write: " + message, e);
                } else {
                    throw new IOException("writing " + batch.size() + " keys failed: " + message, e);
                }
                if (!retry.pauseBeforeNextTry()) {
                    throw new IOException("writing " + batch.size() + " keys to " + endpoint + " failed "
                            + retry.spent() + ", the last: " + message, e);
                }
            }
        }
    }

    private void sendOnce(List<VersionedWrite> batch) {
        Map<Jedis, List<VersionedWrite>> byPrimary = nodes.byNode(batch, w -> w.key);
        Map<Jedis, List<VersionedWrite>> byImporter = endpoint.cluster() && nodes.anySlotMigrating()
                ? takeKeysNotOnTheirMigratingPrimary(byPrimary) : Map.of();
        List<Response<Object>> replies = new ArrayList<>(batch.size() / KEYS_PER_CALL + 1);
        // one pipeline per connection (a primary may also be importing a slot), every one queued before any is read:
        // all but each one's last buffer is on the wire while the first node answers
        Map<Jedis, Pipeline> pipelines = new IdentityHashMap<>();
        Map<Jedis, Integer> writesPerNode = new IdentityHashMap<>();
        Map<Jedis, Response<Long>> replicaAcks = new IdentityHashMap<>();
        if (endpoint.replicaAcks() > 0 && !shortOfReplicas.isEmpty()) {
            // before any pipeline opens: a connection answers a call of its own only outside one
            byPrimary.keySet().forEach(this::checkReplicasBack);
            byImporter.keySet().forEach(this::checkReplicasBack);
        }
        try {
            for (Map.Entry<Jedis, List<VersionedWrite>> node : byPrimary.entrySet()) {
                queueCalls(node.getKey(), node.getValue(), false, pipelines, replies);
                writesPerNode.merge(node.getKey(), node.getValue().size(), Integer::sum);
            }
            for (Map.Entry<Jedis, List<VersionedWrite>> node : byImporter.entrySet()) {
                queueCalls(node.getKey(), node.getValue(), true, pipelines, replies);
                writesPerNode.merge(node.getKey(), node.getValue().size(), Integer::sum);
            }
            if (endpoint.replicaAcks() > 0) {
                // a primary lost before this answers fails the batch, which is then sent to the one promoted
                pipelines.forEach((node, pipeline) -> {
                    if (!shortOfReplicas.contains(node)) {
                        replicaAcks.put(node,
                                pipeline.waitReplicas(endpoint.replicaAcks(), endpoint.replicaAckTimeoutMs()));
                    }
                });
            }
            for (Pipeline pipeline : pipelines.values()) {
                pipeline.sync();
            }
        } finally {
            for (Pipeline pipeline : pipelines.values()) {
                pipeline.close();
            }
        }
        long appliedNow = 0;
        long staleNow = 0;
        for (Response<Object> reply : replies) {
            // throws the server's error for that call, if any
            for (Object result : (List<?>) reply.get()) {
                if (Long.valueOf(1L).equals(result)) {
                    appliedNow++;
                } else {
                    staleNow++;
                }
            }
        }
        long unreplicatedNow = 0;
        if (endpoint.replicaAcks() > 0) {
            for (Map.Entry<Jedis, Integer> node : writesPerNode.entrySet()) {
                Response<Long> ack = replicaAcks.get(node.getKey());
                if (ack != null && ack.get() >= endpoint.replicaAcks()) {
                    continue;
                }
                unreplicatedNow += node.getValue();
                if (ack != null) {
                    checkReplicasGone(node.getKey());
                }
            }
        }
        synchronized (lock) {
            applied.inc(appliedNow);
            stale.inc(staleNow);
            unreplicated.inc(unreplicatedNow);
        }
    }

    /** The script calls for {@code writes} on {@code node}, each after ASKING when {@code asking}. */
    private void queueCalls(Jedis node, List<VersionedWrite> writes, boolean asking, Map<Jedis, Pipeline> pipelines,
            List<Response<Object>> replies) {
        if (writes.isEmpty()) {
            return;
        }
        byte[] sha = scriptOn(node); // before the node's pipeline opens: loading the script is a call of its own
        Pipeline pipeline = pipelines.computeIfAbsent(node, Jedis::pipelined);
        for (int from = 0; from < writes.size(); from += KEYS_PER_CALL) {
            List<byte[]> keys = keys(writes, from);
            if (asking) {
                // lets the next command touch keys of a slot this primary is importing; a reshard's MIGRATE moves
                // only keys the old primary holds, so a key written here first is never moved over
                pipeline.appendCommand(new CommandObject<>(new CommandArguments(Protocol.Command.ASKING),
                        BuilderFactory.STRING));
            }
            if (endpoint.cluster()) {
                List<byte[]> args = new ArrayList<>();
                args.add(Integer.toString(keys.size()).getBytes(StandardCharsets.UTF_8));
                args.addAll(keys);
                args.addAll(arguments(writes, from));
                replies.add(pipeline.evalsha(sha, List.of(), args));
            } else {
                replies.add(pipeline.evalsha(sha, keys, arguments(writes, from)));
            }
        }
    }

    /**
     * While a reshard migrates a slot, its primary serves only the slot's keys it still holds and refuses the rest
     * (ASK): takes those writes out of {@code byPrimary} and returns them grouped by the primary importing the slot.
     * A key that moves between the check and the write fails its call, and the batch is sent again.
     */
    private Map<Jedis, List<VersionedWrite>> takeKeysNotOnTheirMigratingPrimary(Map<Jedis, List<VersionedWrite>> byPrimary) {
        Map<Jedis, List<VersionedWrite>> byImporter = new IdentityHashMap<>();
        for (Map.Entry<Jedis, List<VersionedWrite>> node : byPrimary.entrySet()) {
            List<VersionedWrite> migrating = new ArrayList<>();
            for (VersionedWrite w : node.getValue()) {
                if (nodes.importingForKey(w.key) != null) {
                    migrating.add(w);
                }
            }
            if (migrating.isEmpty()) {
                continue;
            }
            List<Response<Boolean>> held = new ArrayList<>(migrating.size());
            try (Pipeline pipeline = node.getKey().pipelined()) {
                for (VersionedWrite w : migrating) {
                    held.add(pipeline.exists(w.key));
                }
                pipeline.sync();
            }
            Set<VersionedWrite> moving = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int i = 0; i < migrating.size(); i++) {
                if (!holds(held.get(i))) {
                    VersionedWrite w = migrating.get(i);
                    moving.add(w);
                    byImporter.computeIfAbsent(nodes.importingForKey(w.key), n -> new ArrayList<>()).add(w);
                }
            }
            node.setValue(node.getValue().stream().filter(w -> !moving.contains(w)).toList());
        }
        return byImporter;
    }

    /** EXISTS on a slot being migrated away: a key the primary does not hold is answered with ASK, not 0. */
    private static boolean holds(Response<Boolean> exists) {
        try {
            return exists.get();
        } catch (JedisAskDataException e) {
            return false;
        }
    }

    private static List<byte[]> keys(List<VersionedWrite> writes, int from) {
        List<byte[]> keys = new ArrayList<>(KEYS_PER_CALL);
        for (VersionedWrite w : writes.subList(from, Math.min(writes.size(), from + KEYS_PER_CALL))) {
            keys.add(w.key.getBytes(StandardCharsets.UTF_8));
        }
        return keys;
    }

    private static List<byte[]> arguments(List<VersionedWrite> writes, int from) {
        List<byte[]> args = new ArrayList<>();
        for (VersionedWrite w : writes.subList(from, Math.min(writes.size(), from + KEYS_PER_CALL))) {
            args.add(Long.toString(w.version).getBytes(StandardCharsets.UTF_8));
            args.add(Long.toString(Math.max(0, w.ttlMs)).getBytes(StandardCharsets.UTF_8));
            args.add((w.tieBreakField == null ? "" : w.tieBreakField).getBytes(StandardCharsets.UTF_8));
            args.add(Integer.toString(w.fieldNames.length).getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < w.fieldNames.length; i++) {
                args.add(w.fieldNames[i].getBytes(StandardCharsets.UTF_8));
                args.add(w.fieldValues[i]);
            }
        }
        return args;
    }

    /** The script's SHA1, loading the script into {@code connection}'s server first if this writer has not. */
    private byte[] scriptOn(Jedis connection) {
        if (scriptLoaded.add(connection)) {
            scriptSha = connection.scriptLoad(script).getBytes(StandardCharsets.UTF_8);
        }
        return scriptSha;
    }

    /**
     * After a wait fell short: a primary with fewer replicas connected than asked for would make every pipeline wait
     * the whole timeout (WAIT counts only connected replicas), as after a failover until the old primary returns as
     * a replica, so its writes go on without the wait (counted as unreplicated) until enough are back. A replica
     * connected but slow keeps the wait.
     */
    private void checkReplicasGone(Jedis primary) {
        int connected = connectedReplicas(primary);
        if (connected < endpoint.replicaAcks() && shortOfReplicas.add(primary)) {
            LOG.warn("Redis primary {} has {} of the {} replicas ctr.redis.wait-replicas asks for: its writes go on "
                    + "without waiting for replicas, counted in redisWritesUnreplicated, until they are back",
                    primary.getConnection().getHostAndPort(), connected, endpoint.replicaAcks());
        }
    }

    private void checkReplicasBack(Jedis primary) {
        if (shortOfReplicas.contains(primary)) {
            int connected = connectedReplicas(primary);
            if (connected >= endpoint.replicaAcks()) {
                shortOfReplicas.remove(primary);
                LOG.info("Redis primary {} has {} replicas again: its writes wait for {}",
                        primary.getConnection().getHostAndPort(), connected, endpoint.replicaAcks());
            }
        }
    }

    /** ROLE's replicas of a primary (those connected); 0 from a server that is not a primary. */
    private static int connectedReplicas(Jedis primary) {
        List<Object> role = primary.role();
        return role.size() > 2 && role.get(2) instanceof List<?> replicas ? replicas.size() : 0;
    }

    private void closeConnections() {
        scriptLoaded.clear();
        shortOfReplicas.clear();
        nodes.reset();
    }

    /** Stops the sender; writes not flushed are dropped (Flink replays them from the last checkpoint). */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            // a pipeline in flight ends within the connection's timeout
            sender.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!sender.isAlive()) {
            closeConnections();
        } else {
            sender.interrupt();
        }
    }
}
