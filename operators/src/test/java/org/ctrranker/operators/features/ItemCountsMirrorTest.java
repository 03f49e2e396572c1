package org.ctrranker.operators.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.ctrranker.operators.redis.VersionedWrite;
import org.junit.jupiter.api.Test;

class ItemCountsMirrorTest {

    @Test
    void aTickBecomesAWriteOfTheAdsKeyVersionedByTheTicksEnd() {
        VersionedWrite write = ItemCountsMirror.fromSettings(Map.of("ctr.redis.key-prefix", "p",
                ItemCountsMirror.REDIS_TTL_MS, "60000")).map(new ItemTick("ad{1}", 5_999L, 40, 3));
        assertThat(write.key).isEqualTo("p:item:{ad%7B1%7D}");
        assertThat(write.version).isEqualTo(5_999L);
        assertThat(write.ttlMs).isEqualTo(60_000L);
        assertThat(write.fieldNames).containsExactly("as_of_ms", "clicks", "impressions");
        assertThat(new String(write.fieldValues[0], StandardCharsets.UTF_8)).isEqualTo("5999");
        assertThat(new String(write.fieldValues[1], StandardCharsets.UTF_8)).isEqualTo("3");
        assertThat(new String(write.fieldValues[2], StandardCharsets.UTF_8)).isEqualTo("40");
    }

    @Test
    void theMirrorIsOffUnlessSetOnAndABadSettingIsRefusedByName() {
        assertThat(ItemCountsMirror.enabled(Map.of())).isFalse();
        assertThat(ItemCountsMirror.enabled(Map.of(ItemCountsMirror.ENABLED, "true"))).isTrue();
        assertThatThrownBy(() -> ItemCountsMirror.enabled(Map.of(ItemCountsMirror.ENABLED, "no")))
                .hasMessage("ctr.features.item.redis-mirror=no must be true or false");
        assertThatThrownBy(() -> ItemCountsMirror.fromSettings(Map.of(ItemCountsMirror.REDIS_TTL_MS, "0")))
                .hasMessage("ctr.features.item.redis-ttl-ms=0: must be above 0");
    }
}
