package org.ctrranker.operators.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RedisEndpointTest {

    @Test
    void readsHostPortAndDefaults() {
        RedisEndpoint e = RedisEndpoint.parse("redis://127.0.0.1:6390");
        assertThat(e.host()).isEqualTo("127.0.0.1");
        assertThat(e.port()).isEqualTo(6390);
        assertThat(e.tls()).isFalse();
        assertThat(e.user()).isNull();
        assertThat(e.hasPassword()).isFalse();
        assertThat(e.database()).isZero();
        assertThat(RedisEndpoint.parse("redis://cache.internal").port()).isEqualTo(6379);
    }

    @Test
    void readsTlsUserPasswordAndDatabase() {
        RedisEndpoint e = RedisEndpoint.parse("rediss://ranker:s%40cr%3At@redis.example:6380/2");
        assertThat(e.tls()).isTrue();
        assertThat(e.user()).isEqualTo("ranker");
        assertThat(e.password()).isEqualTo("s@cr:t");
        assertThat(e.database()).isEqualTo(2);
        assertThat(e.toString()).isEqualTo("rediss://ranker:***@redis.example:6380/2").doesNotContain("cr");
    }

    @Test
    void aPasswordWithoutUserIsTheDefaultUsersPassword() {
        RedisEndpoint colon = RedisEndpoint.parse("redis://:only-password@h:1");
        assertThat(colon.user()).isNull();
        assertThat(colon.password()).isEqualTo("only-password");
        RedisEndpoint bare = RedisEndpoint.parse("redis://bare-password@h:1");
        assertThat(bare.user()).isNull();
        assertThat(bare.password()).isEqualTo("bare-password");
        assertThat(bare.toString()).doesNotContain("bare-password");
    }

    @Test
    void rejectsOtherSchemesWithoutEchoingTheSecret() {
        assertThatThrownBy(() -> RedisEndpoint.parse("http://u:topsecret@h:1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("topsecret");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://u:topsecret@bad host:1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a valid URL").hasMessageNotContaining("topsecret");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://u:topsecret@h:1/zero"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("database number").hasMessageNotContaining("topsecret");
    }

    @Test
    void aClusterUrlNamesOneNodeOfDatabaseZero() {
        RedisEndpoint plain = RedisEndpoint.parse("redis-cluster://:pw@10.0.0.5:7000");
        assertThat(plain.cluster()).isTrue();
        assertThat(plain.tls()).isFalse();
        assertThat(plain.port()).isEqualTo(7000);
        assertThat(plain.toString()).isEqualTo("redis-cluster://:***@10.0.0.5:7000");
        RedisEndpoint tls = RedisEndpoint.parse("rediss-cluster://cache.internal");
        assertThat(tls.cluster()).isTrue();
        assertThat(tls.tls()).isTrue();
        assertThat(tls.port()).isEqualTo(6379);
        assertThat(RedisEndpoint.parse("redis://h:1").cluster()).isFalse();
        assertThatThrownBy(() -> RedisEndpoint.parse("redis-cluster://:secret@h:7000/3"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only database 0").hasMessageNotContaining("secret");
    }

    @Test
    void aSentinelUrlListsTheSentinelsAndNamesThePrimary() {
        RedisEndpoint e = RedisEndpoint.parse("redis-sentinel://:s%40cret@sentinel-0,sentinel-1:26380,[fd00::7]:26381/2"
                + "#ads-primary");
        assertThat(e.sentinel()).isTrue();
        assertThat(e.cluster()).isFalse();
        assertThat(e.primaryName()).isEqualTo("ads-primary");
        assertThat(e.password()).isEqualTo("s@cret");
        assertThat(e.database()).isEqualTo(2);
        assertThat(e.host()).isEqualTo("sentinel-0");
        assertThat(e.port()).isEqualTo(26379);
        assertThat(e.toString()).isEqualTo(
                "redis-sentinel://:***@sentinel-0:26379,sentinel-1:26380,fd00::7:26381/2#ads-primary");
        assertThat(e.withPasswordIfAbsent("other").primaryName()).isEqualTo("ads-primary");
        RedisEndpoint tls = RedisEndpoint.parse("rediss-sentinel://s:1#p");
        assertThat(tls.tls()).isTrue();
        assertThat(tls.sentinel()).isTrue();
        assertThat(RedisEndpoint.parse("redis://h:1").sentinel()).isFalse();
    }

    @Test
    void aSentinelUrlWithoutThePrimarysNameSaysHowToWriteIt() {
        assertThatThrownBy(() -> RedisEndpoint.parse("redis-sentinel://:secret@s0:26379,s1:26379"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("#<name of the primary").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis-sentinel://s0:x#p"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
        assertThatThrownBy(() -> RedisEndpoint.parse("redis-sentinel://s0,,s1#p"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("separated by commas");
    }

    @Test
    void replicaAcknowledgementsAreCarriedAndBounded() {
        RedisEndpoint e = RedisEndpoint.parse("redis-sentinel://:pw@s0#p").withReplicaAcks(1, 250);
        assertThat(e.replicaAcks()).isEqualTo(1);
        assertThat(e.replicaAckTimeoutMs()).isEqualTo(250);
        assertThat(e.withPasswordIfAbsent("other").replicaAcks()).isEqualTo(1);
        assertThat(RedisEndpoint.parse("redis://h:1").replicaAcks()).isZero();
        assertThatThrownBy(() -> RedisEndpoint.parse("redis://h:1").withReplicaAcks(1, 20_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ctr.redis.wait-timeout-ms");
    }

    @Test
    void hashTagsHoldTheWholeEntityIdEvenWithBraces() {
        assertThat(RedisKeys.userFeedback("ctr", "u-1")).isEqualTo("ctr:user:{u-1}:feedback");
        assertThat(RedisKeys.market("ctr", "slot-9#2")).isEqualTo("ctr:market:{slot-9#2}");
        assertThat(RedisKeys.userFeedback("ctr", "a}b{c%")).isEqualTo("ctr:user:{a%7Db%7Bc%25}:feedback");
    }
}
