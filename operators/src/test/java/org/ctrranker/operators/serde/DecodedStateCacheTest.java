package org.ctrranker.operators.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class DecodedStateCacheTest {

    private final List<String> decoded = new ArrayList<>();
    private final Function<byte[], StringBuilder> decode = bytes -> {
        String text = new String(bytes, StandardCharsets.UTF_8);
        decoded.add(text);
        return new StringBuilder(text);
    };

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void givesBackTheObjectWrittenWhenTheStateHoldsEqualBytesInAFreshArray() {
        DecodedStateCache<String, StringBuilder> cache = new DecodedStateCache<>(4);
        StringBuilder state = cache.take("u1", bytes("a"), decode);
        state.append("b");
        cache.put("u1", bytes("ab"), state);

        assertThat(cache.take("u1", bytes("ab"), decode)).isSameAs(state);
        assertThat(decoded).containsExactly("a");
        assertThat(cache.hits()).isEqualTo(1);
        assertThat(cache.misses()).isEqualTo(1);
    }

    @Test
    void decodesWhenTheStateChangedBehindItOrTheObjectWasTakenAndNotPutBack() {
        DecodedStateCache<String, StringBuilder> cache = new DecodedStateCache<>(4);
        cache.put("u1", bytes("ab"), new StringBuilder("ab"));
        // restored or written elsewhere: other bytes than the cached object's
        assertThat(cache.take("u1", bytes("abc"), decode).toString()).isEqualTo("abc");

        StringBuilder changedButNotSaved = cache.take("u1", bytes("abc"), decode);
        changedButNotSaved.append("x");
        assertThat(cache.take("u1", bytes("abc"), decode).toString()).isEqualTo("abc");
        assertThat(decoded).containsExactly("abc", "abc", "abc");
    }

    @Test
    void keepsOnlyTheKeysUsedLast() {
        DecodedStateCache<String, StringBuilder> cache = new DecodedStateCache<>(2);
        cache.put("u1", bytes("1"), new StringBuilder("1"));
        cache.put("u2", bytes("2"), new StringBuilder("2"));
        StringBuilder first = cache.take("u1", bytes("1"), decode);
        cache.put("u1", bytes("1"), first);
        cache.put("u3", bytes("3"), new StringBuilder("3"));

        assertThat(cache.take("u1", bytes("1"), decode)).isSameAs(first);
        cache.take("u2", bytes("2"), decode);
        assertThat(decoded).containsExactly("2");
    }

    @Test
    void refusesASizeBelowOne() {
        assertThatThrownBy(() -> new DecodedStateCache<String, String>(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
    }
}
