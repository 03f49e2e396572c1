package org.ctrranker.operators.features;

import java.io.Serializable;
import java.util.Map;

/**
 * Settings of the item statistics stage, immutable; the defaults are in ctr-ranker-defaults.properties. The lag
 * and the attribution window are the scorer's and the joins' own settings: the stage must count and look back as
 * they do.
 */
public final class ItemStatisticsConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String TICK_MS = "ctr.features.item.tick-ms";
    public static final String HISTORY_MS = "ctr.features.item.history-ms";
    public static final String IDLE_TIMEOUT_MS = "ctr.features.item.idle-timeout-ms";
    public static final String STATE_LAG_MS = "ctr.scoring.state-lag-ms";
    public static final String ATTRIBUTION_WINDOW_MS = "ctr.attribution.window-ms";

    private final long tickMs;
    private final long historyMs;
    private final long idleTimeoutMs;
    private final long stateLagMs;
    private final long attributionWindowMs;

    public ItemStatisticsConfig(long tickMs, long historyMs, long idleTimeoutMs, long stateLagMs,
            long attributionWindowMs) {
        this.tickMs = positive(TICK_MS, tickMs);
        this.historyMs = positive(HISTORY_MS, historyMs);
        this.idleTimeoutMs = positive(IDLE_TIMEOUT_MS, idleTimeoutMs);
        this.stateLagMs = positive(STATE_LAG_MS, stateLagMs);
        this.attributionWindowMs = positive(ATTRIBUTION_WINDOW_MS, attributionWindowMs);
    }

    public static ItemStatisticsConfig defaults() {
        return fromSettings(Map.of());
    }

    /** Reads the keys above from a settings map; an absent key keeps its default. */
    public static ItemStatisticsConfig fromSettings(Map<String, String> settings) {
        return new ItemStatisticsConfig(number(settings, TICK_MS, 1_000), number(settings, HISTORY_MS, 1_200_000),
                number(settings, IDLE_TIMEOUT_MS, 604_800_000), number(settings, STATE_LAG_MS, 15_000),
                number(settings, ATTRIBUTION_WINDOW_MS, 1_800_000));
    }

    static long number(Map<String, String> settings, String key, long fallback) {
        String value = settings.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + value + " is not a whole number of milliseconds");
        }
    }

    static long positive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + "=" + value + ": must be above 0");
        }
        return value;
    }

    /** Counts are published, and looked up, at the end of each tick of this length (event time). */
    public long tickMs() {
        return tickMs;
    }

    /**
     * How far behind the watermark a sample's point in time may be and still find the ticks the scorer had: the
     * joins keep an auction 10 minutes for its impressions, and the point in time is the request's minus the lag.
     */
    public long historyMs() {
        return historyMs;
    }

    /** An ad without an event for this long is forgotten: its counts start again from zero. */
    public long idleTimeoutMs() {
        return idleTimeoutMs;
    }

    /** The scorer's point in time for an auction at t is t minus this. */
    public long stateLagMs() {
        return stateLagMs;
    }

    /** A click counts if it comes within this of its impression. */
    public long attributionWindowMs() {
        return attributionWindowMs;
    }

    /** The end of the tick that holds {@code timeMs}: its last millisecond. */
    public long tickEnd(long timeMs) {
        return Math.floorDiv(timeMs, tickMs) * tickMs + tickMs - 1;
    }
}
