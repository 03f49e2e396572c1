package org.ctrranker.cli.bench;

/** Reads Redis's {@code INFO commandstats} lines, e.g. {@code cmdstat_hset:calls=3,usec=9,usec_per_call=3.00,...}. */
final class RedisCommandStats {

    private RedisCommandStats() {}

    /** The {@code field} (calls, usec, ...) of {@code command} (lower case); 0 for a command Redis has not served. */
    static double value(String commandStats, String command, String field) {
        String prefix = "cmdstat_" + command + ":";
        for (String line : commandStats.split("\r?\n")) {
            if (line.startsWith(prefix)) {
                for (String part : line.substring(prefix.length()).split(",")) {
                    if (part.startsWith(field + "=")) {
                        return Double.parseDouble(part.substring(field.length() + 1));
                    }
                }
                throw new IllegalArgumentException("no " + field + " in Redis's line: " + line);
            }
        }
        return 0;
    }
}
