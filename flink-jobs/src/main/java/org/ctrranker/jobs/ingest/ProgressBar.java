package org.ctrranker.jobs.ingest;

import java.io.PrintStream;

/**
 * A one-line progress display on stderr, redrawn at most a few times a second; with an unknown
 * total it shows the count and rate only. Stays quiet when stderr is not a terminal, except for
 * a line every ten seconds, so logs of long runs are not flooded.
 */
public final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String unit;
    private final long total;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private long lastDrawNanos = startNanos;

    public ProgressBar(PrintStream out, String unit, long total) {
        this.out = out;
        this.unit = unit;
        this.total = total;
        this.terminal = System.console() != null;
    }

    public void update(long done) {
        long now = System.nanoTime();
        long interval = terminal ? 200_000_000L : 10_000_000_000L;
        if (now - lastDrawNanos < interval) {
            return;
        }
        lastDrawNanos = now;
        draw(done, now);
    }

    public void finish(long done) {
        draw(done, System.nanoTime());
        if (terminal) {
            out.println();
        }
    }

    private void draw(long done, long now) {
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        String rate = String.format("%,.0f %s/s", done / seconds, unit);
        String line;
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            line = String.format("[%s%s] %3d%% %,d/%,d %s, %s", "#".repeat(filled), ".".repeat(WIDTH - filled),
                    100 * done / total, done, total, unit, rate);
        } else {
            line = String.format("%,d %s, %s", done, unit, rate);
        }
        out.print(terminal ? "\r" + line : line + "\n");
        out.flush();
    }
}
