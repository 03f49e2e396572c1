package org.ctrranker.jobs.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written as a number and a unit: 250ms, 90s, 30m, 1h, 2d (a bare number is ms). */
public final class Durations {

    private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

    private Durations() {}

    public static long parseMillis(String option, String text) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new CommandFailure(option + " '" + text + "' is not a duration: write e.g. 500ms, 90s, 30m or 1h");
        }
        long value = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        return switch (unit) {
            case "ms" -> value;
            case "s" -> value * 1_000;
            case "m" -> value * 60_000;
            case "h" -> value * 3_600_000;
            default -> value * 86_400_000;
        };
    }
}
