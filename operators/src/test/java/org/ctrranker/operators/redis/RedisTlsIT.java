package org.ctrranker.operators.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.ctrranker.localenv.LocalRedisCluster;
import org.ctrranker.localenv.LocalTlsRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code rediss://} with AUTH against a real redis-server that speaks only TLS, and {@code rediss-cluster://} against a
 * real three-primary Redis Cluster speaking TLS. Their certificates are self-signed, trusted
 * the way a deployment trusts a private CA: in the JVM's default trust (here {@code SSLContext.setDefault}; in a
 * deployment {@code -Djavax.net.ssl.trustStore}).
 */
class RedisTlsIT {

    private static final String PASSWORD = "tls-it-secret";

    @TempDir
    static Path dir;
    private static LocalTlsRedis redis;
    private static LocalRedisCluster cluster;
    private static SSLContext jvmDefault;
    private static SSLContext trustingTheServer;

    @BeforeAll
    static void start() throws Exception {
        redis = LocalTlsRedis.start(dir, PASSWORD);
        cluster = LocalRedisCluster.startTls(dir.resolve("cluster"), 3);
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        for (Path certificate : List.of(redis.certificate(), cluster.certificate())) {
            try (InputStream pem = Files.newInputStream(certificate)) {
                trusted.setCertificateEntry(certificate.getFileName().toString(),
                        CertificateFactory.getInstance("X.509").generateCertificate(pem));
            }
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        trustingTheServer = SSLContext.getInstance("TLS");
        trustingTheServer.init(null, trust.getTrustManagers(), null);
        jvmDefault = SSLContext.getDefault();
        SSLContext.setDefault(trustingTheServer);
    }

    @AfterAll
    static void stop() {
        SSLContext.setDefault(jvmDefault);
        if (redis != null) {
            redis.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theWriterAndTheReadersWorkOverTlsWithAPassword() throws Exception {
        RedisEndpoint endpoint = RedisEndpoint.parse(redis.url());
        assertThat(endpoint.tls()).isTrue();
        String key = RedisKeys.ranking("tls", "a-1");
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 100, 0, null);
             UnifiedJedis client = endpoint.client()) {
            writer.write(VersionedWrite.ofText(key, 5, 60_000, Map.of("ads", "ad-1,ad-2", "model_version", "3")));
            writer.write(VersionedWrite.ofText(key, 4, 60_000, Map.of("ads", "older", "model_version", "2")));
            writer.flush();
            assertThat(writer.appliedCount()).isEqualTo(1);
            assertThat(client.hgetAll(key)).containsEntry("ads", "ad-1,ad-2").containsEntry(VersionedWrite.VERSION_FIELD, "5");
            assertThat(client.pttl(key)).isPositive();
        }
    }

    @Test
    void theWriterAndTheReadersReachEveryPrimaryOfATlsCluster() throws Exception {
        RedisEndpoint endpoint = RedisEndpoint.parse(cluster.url());
        assertThat(endpoint.tls()).isTrue();
        assertThat(endpoint.cluster()).isTrue();
        int keys = 300;
        try (VersionedRedisWriter writer = new VersionedRedisWriter(endpoint, 1_000, 0, null);
             UnifiedJedis client = endpoint.client()) {
            for (int i = 0; i < keys; i++) {
                writer.write(VersionedWrite.ofText(RedisKeys.ranking("tls-cluster", "a-" + i), 5, 60_000,
                        Map.of("ads", "ad-" + i)));
            }
            writer.flush();
            assertThat(writer.appliedCount()).isEqualTo(keys);
            for (int i = 0; i < keys; i++) {
                assertThat(client.hget(RedisKeys.ranking("tls-cluster", "a-" + i), "ads")).isEqualTo("ad-" + i);
            }
        }
        for (int node = 0; node < 3; node++) {
            assertThat(Long.parseLong(cluster.command(node, "DBSIZE"))).as("keys on primary %d", node).isPositive();
        }
    }

    @Test
    void aWrongPasswordAndAnUntrustedCertificateAreRefused() {
        RedisEndpoint wrongPassword = RedisEndpoint.parse(redis.url().replace(PASSWORD, "not-it"));
        assertThatThrownBy(() -> {
            try (UnifiedJedis client = wrongPassword.client()) {
                client.ping();
            }
        }).hasStackTraceContaining("WRONGPASS");

        SSLContext.setDefault(jvmDefault);
        try {
            assertThatThrownBy(() -> {
                try (UnifiedJedis client = RedisEndpoint.parse(redis.url()).client()) {
                    client.ping();
                }
            }).hasStackTraceContaining("PKIX");
        } finally {
            SSLContext.setDefault(trustingTheServer);
        }
    }
}
