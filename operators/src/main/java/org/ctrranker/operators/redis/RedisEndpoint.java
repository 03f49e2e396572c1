package org.ctrranker.operators.redis;

import java.io.Serializable;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * Where and how to reach Redis, parsed from {@code redis://[user:password@]host[:port][/db]} or
 * {@code rediss://...} (TLS). A password alone is {@code redis://:password@host}. User and password are
 * percent-decoded. {@code redis-cluster://[user:password@]host[:port]} (or {@code rediss-cluster://}) names any
 * node of a Redis Cluster, from which the cluster's slots and primaries are discovered; a cluster has only
 * database 0. {@link #toString()} never shows the password.
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

    private RedisEndpoint(String host, int port, boolean tls, String user, String password, int database,
            boolean cluster) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.user = user;
        this.password = password;
        this.database = database;
        this.cluster = cluster;
    }

    public static RedisEndpoint parse(String url) {
        URI uri = URI.create(url.trim());
        String scheme = uri.getScheme();
        if (!List.of("redis", "rediss", "redis-cluster", "rediss-cluster").contains(scheme)) {
            throw new IllegalArgumentException("Redis URL must start with redis://, rediss:// (TLS), redis-cluster:// or "
                    + "rediss-cluster:// (a Redis Cluster node): " + redact(url));
        }
        boolean cluster = scheme.endsWith("-cluster");
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("Redis URL has no host: " + redact(url));
        }
        String user = null;
        String password = null;
        String info = uri.getRawUserInfo();
        if (info != null && !info.isEmpty()) {
            int colon = info.indexOf(':');
            if (colon < 0) {
                password = decode(info); // redis://secret@host: a bare password, as redis-cli reads it
            } else {
                user = colon == 0 ? null : decode(info.substring(0, colon));
                password = decode(info.substring(colon + 1));
            }
        }
        int database = 0;
        String path = uri.getPath();
        if (path != null && path.length() > 1) {
            database = Integer.parseInt(path.substring(1));
        }
        if (cluster && database != 0) {
            throw new IllegalArgumentException("a Redis Cluster has only database 0: drop /" + database + " from "
                    + redact(url));
        }
        return new RedisEndpoint(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort(), scheme.startsWith("rediss"),
                user, password, database, cluster);
    }

    /**
     * This endpoint with {@code password} when the URL carried none, so deployments keep the
     * password in a Secret (environment variable) rather than in the URL of a ConfigMap.
     */
    public RedisEndpoint withPasswordIfAbsent(String password) {
        if (this.password != null || password == null || password.isEmpty()) {
            return this;
        }
        return new RedisEndpoint(host, port, tls, user, password, database, cluster);
    }

    /** A new single connection to the endpoint's node (of a cluster: the one named); the caller closes it. */
    public Jedis connect() {
        return connect(new HostAndPort(host, port));
    }

    /** A new single connection to {@code node}, with this endpoint's credentials and TLS; the caller closes it. */
    public Jedis connect(HostAndPort node) {
        return new Jedis(node, clientConfig());
    }

    /**
     * A client that sends each command to the server holding its key: pooled connections to the one server, or to
     * every primary of a cluster (following its slot moves); the caller closes it.
     */
    public UnifiedJedis client() {
        HostAndPort node = new HostAndPort(host, port);
        return cluster ? RedisClusterClient.builder().nodes(Set.of(node)).clientConfig(clientConfig()).build()
                : RedisClient.builder().hostAndPort(node).clientConfig(clientConfig()).build();
    }

    private JedisClientConfig clientConfig() {
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .ssl(tls).database(database).clientName("ctr-ranker").timeoutMillis(10_000)
                // RESP2, which Jedis falls back to anyway, without a warning on every connection
                .autoNegotiateProtocol(false);
        if (user != null) {
            config.user(user);
        }
        if (password != null) {
            config.password(password);
        }
        return config.build();
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

    /** Whether the endpoint is a node of a Redis Cluster ({@code redis-cluster://}). */
    public boolean cluster() {
        return cluster;
    }

    @Override
    public String toString() {
        return (tls ? "rediss" : "redis") + (cluster ? "-cluster://" : "://")
                + (user != null ? user + ":***@" : password != null ? ":***@" : "")
                + host + ":" + port + (cluster ? "" : "/" + database);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String redact(String url) {
        return url.replaceAll("//[^@/]*@", "//***@");
    }
}
