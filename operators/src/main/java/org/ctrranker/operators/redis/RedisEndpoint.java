package org.ctrranker.operators.redis;

import java.io.Serializable;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Where and how to reach Redis, parsed from {@code redis://[user:password@]host[:port][/db]} or
 * {@code rediss://...} (TLS). A password alone is {@code redis://:password@host}. User and password are
 * percent-decoded. {@code redis-cluster://[user:password@]host[:port]} (or {@code rediss-cluster://}) names any
 * node of a Redis Cluster, from which the cluster's slots and primaries are discovered; a cluster has only
 * database 0. {@code redis-sentinel://[user:password@]host[:port][,host[:port]...][/db]#primary} (or
 * {@code rediss-sentinel://}) names the Sentinels (port 26379 unless given) that watch the primary of that name: every
 * connection goes to the primary they name at the time, so writes follow a failover to a promoted replica. The
 * credentials and TLS apply to the primary and to the Sentinels; a Sentinel without a password is asked without
 * them. {@link #toString()} never shows the password.
 */
public final class RedisEndpoint implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String host;
    private final int port;
    private final boolean tls;
    private final String user;
    private final String password;
    private final int database;
    private final boolean cluster;
    /** Sentinel only: the Sentinels, "host:port" each, in the URL's order; empty otherwise. */
    private final List<String> sentinels;
    /** Sentinel only: the name the Sentinels monitor the primary under; null otherwise. */
    private final String primaryName;
    /** Replicas that must acknowledge each pipeline of writes (WAIT) before a writer goes on; 0: none. */
    private final int replicaAcks;
    private final long replicaAckTimeoutMs;

    private RedisEndpoint(String host, int port, boolean tls, String user, String password, int database,
            boolean cluster, List<String> sentinels, String primaryName, int replicaAcks, long replicaAckTimeoutMs) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.user = user;
        this.password = password;
        this.database = database;
        this.cluster = cluster;
        this.sentinels = List.copyOf(sentinels);
        this.primaryName = primaryName;
        this.replicaAcks = replicaAcks;
        this.replicaAckTimeoutMs = replicaAckTimeoutMs;
    }

    public static RedisEndpoint parse(String url) {
        String text = url.trim();
        int schemeEnd = text.indexOf("://");
        String scheme = schemeEnd < 0 ? "" : text.substring(0, schemeEnd);
        if (!List.of("redis", "rediss", "redis-cluster", "rediss-cluster", "redis-sentinel", "rediss-sentinel")
                .contains(scheme)) {
            throw new IllegalArgumentException("Redis URL must start with redis://, rediss:// (TLS), redis-cluster:// or "
                    + "rediss-cluster:// (a Redis Cluster node), redis-sentinel:// or rediss-sentinel:// (Sentinels, "
                    + "#primary-name at the end): " + redact(url));
        }
        boolean tls = scheme.startsWith("rediss");
        boolean cluster = scheme.endsWith("-cluster");
        if (scheme.endsWith("-sentinel")) {
            return parseSentinels(text.substring(schemeEnd + 3), tls, url);
        }
        URI uri;
        try {
            uri = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Redis URL is not a valid URL (" + redact(e.getMessage()) + ")");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("Redis URL has no host: " + redact(url));
        }
        String[] credentials = credentials(uri.getRawUserInfo());
        int database = database(uri.getPath(), url);
        if (cluster && database != 0) {
            throw new IllegalArgumentException("a Redis Cluster has only database 0: drop /" + database + " from "
                    + redact(url));
        }
        return new RedisEndpoint(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort(), tls, credentials[0],
                credentials[1], database, cluster, List.of(), null, 0, 0);
    }

    /** {@code [user:password@]host[:port][,host[:port]...][/db]#primary}, the part of a Sentinel URL after "://". */
    private static RedisEndpoint parseSentinels(String rest, boolean tls, String url) {
        int hash = rest.indexOf('#');
        String primaryName = hash < 0 ? "" : rest.substring(hash + 1).trim();
        if (primaryName.isEmpty()) {
            throw new IllegalArgumentException("a Sentinel URL ends with #<name of the primary the Sentinels "
                    + "monitor>, e.g. redis-sentinel://sentinel-0:26379,sentinel-1:26379#mymaster: " + redact(url));
        }
        String beforeName = rest.substring(0, hash);
        int slash = beforeName.indexOf('/');
        String authority = slash < 0 ? beforeName : beforeName.substring(0, slash);
        int at = authority.lastIndexOf('@');
        String[] credentials = credentials(at < 0 ? null : authority.substring(0, at));
        List<String> sentinels = new ArrayList<>();
        for (String node : authority.substring(at + 1).split(",", -1)) {
            sentinels.add(sentinelAddress(node.trim(), url));
        }
        int database = database(slash < 0 ? "" : beforeName.substring(slash), url);
        HostAndPort first = HostAndPort.from(sentinels.get(0));
        return new RedisEndpoint(first.getHost(), first.getPort(), tls, credentials[0], credentials[1], database, false,
                sentinels, primaryName, 0, 0);
    }

    /** User (or null) and password (or null) from a URL's raw user information, percent-decoded. */
    private static String[] credentials(String info) {
        if (info == null || info.isEmpty()) {
            return new String[2];
        }
        int colon = info.indexOf(':');
        if (colon < 0) {
            return new String[] {null, decode(info)}; // redis://secret@host: a bare password, as redis-cli reads it
        }
        return new String[] {colon == 0 ? null : decode(info.substring(0, colon)), decode(info.substring(colon + 1))};
    }

    private static int database(String path, String url) {
        if (path == null || path.length() <= 1) {
            return 0;
        }
        try {
            return Integer.parseInt(path.substring(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the path of a Redis URL is the database number: " + redact(url));
        }
    }

    /** "host[:port]" (an IPv6 host in brackets) as "host:port", the Sentinels' port 26379 when none is given. */
    private static String sentinelAddress(String node, String url) {
        int close = node.startsWith("[") ? node.indexOf(']') : -1;
        int colon = node.indexOf(':', Math.max(close, 0));
        String host = close > 0 ? node.substring(1, close) : colon < 0 ? node : node.substring(0, colon);
        if (host.isEmpty() || (close < 0 && node.startsWith("["))) {
            throw new IllegalArgumentException("a Sentinel URL lists host[:port] of each Sentinel, separated by commas: "
                    + redact(url));
        }
        try {
            int port = colon < 0 ? 26379 : Integer.parseInt(node.substring(colon + 1));
            return host + ":" + port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a Sentinel's port is not a number in " + redact(url));
        }
    }

    /**
     * This endpoint with {@code password} when the URL carried none, so deployments keep the
     * password in a Secret (environment variable) rather than in the URL of a ConfigMap.
     */
    public RedisEndpoint withPasswordIfAbsent(String password) {
        if (this.password != null || password == null || password.isEmpty()) {
            return this;
        }
        return new RedisEndpoint(host, port, tls, user, password, database, cluster, sentinels, primaryName,
                replicaAcks, replicaAckTimeoutMs);
    }

    /**
     * This endpoint with writers that, after each pipeline of writes to a primary, wait (Redis WAIT) until
     * {@code replicas} of its replicas have them, at most {@code timeoutMs}: then a primary that fails over to a
     * replica cannot take acknowledged writes with it (one lost before the wait ends makes the writer send the batch
     * again). Writes not acknowledged in time stay on the primary alone; the writers count them and go on.
     */
    public RedisEndpoint withReplicaAcks(int replicas, long timeoutMs) {
        if (replicas < 0 || timeoutMs < 1 || timeoutMs > 5_000) {
            throw new IllegalArgumentException("ctr.redis.wait-replicas must be 0 or more and ctr.redis.wait-timeout-ms "
                    + "from 1 to 5000 (within the connections' 10 s timeout), not " + replicas + " and " + timeoutMs);
        }
        return new RedisEndpoint(host, port, tls, user, password, database, cluster, sentinels, primaryName, replicas,
                timeoutMs);
    }

    /**
     * A new single connection to the endpoint's node (of a cluster: the one named; under Sentinel: the primary they
     * name now); the caller closes it.
     */
    public Jedis connect() {
        return connect(node());
    }

    /** The node {@link #connect()} connects to: the one named, or under Sentinel the primary they name now. */
    public HostAndPort node() {
        return sentinel() ? primary() : new HostAndPort(host, port);
    }

    /** A new single connection to {@code node}, with this endpoint's credentials and TLS; the caller closes it. */
    public Jedis connect(HostAndPort node) {
        return new Jedis(node, clientConfig());
    }

    /**
     * A client that sends each command to the server holding its key: pooled connections to the one server, to the
     * primary the Sentinels name (following their failovers), or to every primary of a cluster (following its slot
     * moves); the caller closes it.
     */
    public UnifiedJedis client() {
        if (sentinel()) {
            return RedisSentinelClient.builder().masterName(primaryName).sentinels(sentinelNodes())
                    .clientConfig(clientConfig()).sentinelClientConfig(sentinelClientConfig()).build();
        }
        HostAndPort node = new HostAndPort(host, port);
        return cluster ? RedisClusterClient.builder().nodes(Set.of(node)).clientConfig(clientConfig()).build()
                : RedisClient.builder().hostAndPort(node).clientConfig(clientConfig()).build();
    }

    /**
     * The primary the Sentinels name now: the first Sentinel, in the URL's order, that answers and knows the name.
     * Right after a failover a Sentinel may still name the old primary for a moment; its refusals of writes
     * ({@code READONLY}) or lost connections are what {@link TopologyRetry} rides out.
     */
    public HostAndPort primary() {
        if (!sentinel()) {
            throw new IllegalStateException(this + " is not a Sentinel endpoint");
        }
        List<String> failures = new ArrayList<>();
        JedisClientConfig config = sentinelClientConfig();
        for (HostAndPort node : sentinelNodes()) {
            try (Jedis sentinel = new Jedis(node, config)) {
                List<String> address = sentinel.sentinelGetMasterAddrByName(primaryName);
                if (address != null && address.size() == 2) {
                    return new HostAndPort(address.get(0), Integer.parseInt(address.get(1)));
                }
                failures.add(node + ": monitors no primary named '" + primaryName + "'");
            } catch (JedisException e) {
                failures.add(node + ": " + e.getMessage());
            }
        }
        throw new IllegalStateException("no Redis Sentinel named the primary '" + primaryName + "' (check the name "
                + "after # and the Sentinels' addresses in the URL): " + String.join("; ", failures));
    }

    private JedisClientConfig clientConfig() {
        DefaultJedisClientConfig.Builder config = connectionConfig().database(database);
        if (user != null) {
            config.user(user);
        }
        if (password != null) {
            config.password(password);
        }
        return config.build();
    }

    /**
     * The Sentinels' connections: with the URL's credentials when the first Sentinel that answers accepts them, else
     * without (Sentinels often run without a password while the data nodes have one). Sentinels hold no databases.
     */
    private JedisClientConfig sentinelClientConfig() {
        JedisClientConfig withCredentials = connectionConfig().user(user).password(password).build();
        if (password == null) {
            return withCredentials;
        }
        for (HostAndPort node : sentinelNodes()) {
            try (Jedis sentinel = new Jedis(node, withCredentials)) {
                sentinel.ping();
                return withCredentials;
            } catch (JedisDataException e) {
                if (String.valueOf(e.getMessage()).contains("without any password configured")) {
                    return connectionConfig().build();
                }
                return withCredentials; // a wrong password: the caller's own call reports it
            } catch (JedisException e) {
                // this Sentinel does not answer: ask the next
            }
        }
        return withCredentials;
    }

    private DefaultJedisClientConfig.Builder connectionConfig() {
        return DefaultJedisClientConfig.builder().ssl(tls).clientName("ctr-ranker").timeoutMillis(10_000)
                // RESP2, which Jedis falls back to anyway, without a warning on every connection
                .autoNegotiateProtocol(false);
    }

    private Set<HostAndPort> sentinelNodes() {
        return sentinels.stream().map(HostAndPort::from).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public boolean tls() {
        return tls;
    }

    public String user() {
        return user;
    }

    public boolean hasPassword() {
        return password != null;
    }

    String password() {
        return password;
    }

    public int database() {
        return database;
    }

    /** Replicas that must acknowledge each pipeline of writes; 0: writers do not wait. */
    public int replicaAcks() {
        return replicaAcks;
    }

    public long replicaAckTimeoutMs() {
        return replicaAckTimeoutMs;
    }

    /** Whether the endpoint names Sentinels that name the primary ({@code redis-sentinel://}). */
    public boolean sentinel() {
        return primaryName != null;
    }

    /** Sentinel only: the name the Sentinels monitor the primary under. */
    public String primaryName() {
        return primaryName;
    }

    /** Whether the endpoint is a node of a Redis Cluster ({@code redis-cluster://}). */
    public boolean cluster() {
        return cluster;
    }

    @Override
    public String toString() {
        String credentials = user != null ? user + ":***@" : password != null ? ":***@" : "";
        if (sentinel()) {
            return (tls ? "rediss" : "redis") + "-sentinel://" + credentials + String.join(",", sentinels) + "/"
                    + database + "#" + primaryName;
        }
        return (tls ? "rediss" : "redis") + (cluster ? "-cluster://" : "://") + credentials
                + host + ":" + port + (cluster ? "" : "/" + database);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String redact(String url) {
        return url.replaceAll("//[^@/]*@", "//***@");
    }
}
