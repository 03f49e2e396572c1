package org.ctrranker.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RedisCommandStatsTest {

    /** As redis-server 7.0 answers {@code INFO commandstats} (CRLF line ends; subcommands after a bar). */
    private static final String INFO = "# Commandstats\r\n"
            + "cmdstat_evalsha:calls=2000,usec=1916776,usec_per_call=958.39,rejected_calls=0,failed_calls=0\r\n"
            + "cmdstat_script|load:calls=1,usec=309,usec_per_call=309.00,rejected_calls=0,failed_calls=0\r\n"
            + "cmdstat_hset:calls=200000,usec=632818,usec_per_call=3.16,rejected_calls=0,failed_calls=0\r\n"
            + "cmdstat_hget:calls=200000,usec=172936,usec_per_call=0.86,rejected_calls=0,failed_calls=0\r\n";

    @Test
    void readsTheFieldOfTheNamedCommandOnly() {
        assertThat(RedisCommandStats.value(INFO, "evalsha", "usec")).isEqualTo(1_916_776);
        assertThat(RedisCommandStats.value(INFO, "hset", "calls")).isEqualTo(200_000);
        assertThat(RedisCommandStats.value(INFO, "hget", "usec_per_call")).isEqualTo(0.86);
        assertThat(RedisCommandStats.value(INFO, "script|load", "usec")).isEqualTo(309);
        // "hset" must not match a longer name sharing its start, nor "usec" the field usec_per_call.
        assertThat(RedisCommandStats.value("cmdstat_hsetnx:calls=5,usec=7\r\n", "hset", "calls")).isZero();
        assertThat(RedisCommandStats.value("cmdstat_del:usec_per_call=0.5,usec=40\r\n", "del", "usec")).isEqualTo(40);
    }

    @Test
    void aCommandNotServedCountsZeroAndALineWithoutTheFieldIsAnError() {
        assertThat(RedisCommandStats.value(INFO, "pexpire", "calls")).isZero();
        assertThatThrownBy(() -> RedisCommandStats.value(INFO, "hset", "bytes"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cmdstat_hset");
    }
}
