package org.ctrranker.operators.redis;

import java.io.Serializable;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * Where and how to reach Redis, parsed from {@code redis://[user:password@]host[:port][/db]} or
 * {@code rediss://...} (TLS). A password alone is {@code redis://:password@host}. User and password are
 * percent-decoded. {@link #toString()} never shows the password.
 */
public final class RedisEndpoint implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String host;
    private final int port;
    private final boolean tls;
    private final String user;
    private final String password;
    private final int database;

    private RedisEndpoint(String host, int port, boolean tls, String user, String password, int database) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.user = user;
        this.password = password;
        this.database = database;
    }

    public static RedisEndpoint parse(String url) {
        URI uri = URI.create(url.trim());
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw new IllegalArgumentException("Redis URL must start with redis:// or rediss://: " + redact(url));
        }
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
        return new RedisEndpoint(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort(), "rediss".equals(scheme),
                user, password, database);
    }

    /**
     * This endpoint with {@code password} when the URL carried none, so deployments keep the
     * password in a Secret (environment variable) rather than in the URL of a ConfigMap.
     */
    public RedisEndpoint withPasswordIfAbsent(String password) {
        if (this.password != null || password == null || password.isEmpty()) {
            return this;
        }
        return new RedisEndpoint(host, port, tls, user, password, database);
    }

    /** A new single connection; the caller closes it. */
    public Jedis connect() {
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
        return new Jedis(new HostAndPort(host, port), config.build());
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

    @Override
    public String toString() {
        return (tls ? "rediss://" : "redis://") + (user != null ? user + ":***@" : password != null ? ":***@" : "")
                + host + ":" + port + "/" + database;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String redact(String url) {
        return url.replaceAll("//[^@/]*@", "//***@");
    }
}
