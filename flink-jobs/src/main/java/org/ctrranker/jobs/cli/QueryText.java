package org.ctrranker.jobs.cli;

import java.time.Duration;

/** How the query commands write times. */
final class QueryText {

    private QueryText() {}

    /** A TTL: "never" when the key has none. */
    static String duration(long ms) {
        if (ms < 0) {
            return "never";
        }
        Duration d = Duration.ofMillis(ms);
        return d.toDays() + "d " + d.toHoursPart() + "h " + d.toMinutesPart() + "m";
    }

    /** An age: seconds with one decimal below a minute, else the duration. */
    static String age(long ms) {
        if (ms < 60_000) {
            return String.format("%.1f s", ms / 1000.0);
        }
        return duration(ms);
    }
}
