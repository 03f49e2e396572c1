package org.ctrranker.jobs.replay;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.AuctionWinner;
import org.ctrranker.events.Candidate;
import org.ctrranker.events.Pricing;
import org.ctrranker.events.RequestContext;
import org.ctrranker.events.Scenario;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.schemas.EventTopic;

/**
 * Reads MIND behaviors.tsv as events. Each row (a news-feed page view) becomes one auction whose
 * candidates are the exposed news items, each shown at its list position as an impression; every
 * item labelled 1 becomes a click {@link #CLICK_DELAY_MS} plus one second per position later. The
 * first time a user appears, the user's history (clicked news without timestamps) becomes
 * clicked impressions one minute apart, ending before that first row, in single-item auctions
 * {@code mind-h-<user>-<i>} marked {@code backfill}: they build the user's feedback state but are
 * never trained on, scored or ranked. MIND has no prices: every
 * bid is {@link #BID_MICROS} and the market price 0. The news category (news.tsv beside the
 * behaviors file, when present) is the ad category; times are read as UTC.
 */
public final class MindBehaviorsReader {

    static final long CLICK_DELAY_MS = 5_000;
    static final long BID_MICROS = 1_000_000;
    private static final long HISTORY_SPACING_MS = 60_000;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("M/d/yyyy h:mm:ss a", Locale.US);
    private static final Scenario FEED = new Scenario("mind-news", "feed", null, 0, 0, null, null);

    private MindBehaviorsReader() {}

    public static ReplayLog read(List<Path> files) throws IOException {
        List<Row> rows = new ArrayList<>();
        Map<String, String> categories = new HashMap<>();
        for (Path file : files) {
            categories.putAll(categories(file.resolveSibling("news.tsv")));
            rows.addAll(readRows(file));
        }
        // A user's history precedes the user's earliest row in time, not in file order.
        rows.sort(java.util.Comparator.comparingLong(Row::timeMs));
        List<GeneratedRecord> records = new ArrayList<>();
        Set<String> usersSeen = new HashSet<>();
        long impressions = 0;
        long clicks = 0;
        long historyClicks = 0;
        for (Row row : rows) {
            if (usersSeen.add(row.user())) {
                for (int i = 0; i < row.history().size(); i++) {
                    long at = row.timeMs() - (row.history().size() - i) * HISTORY_SPACING_MS;
                    addPageView(records, "mind-h-" + row.user() + "-" + i, at, row.user(),
                            List.of(row.history().get(i)), List.of(true), categories, true);
                    historyClicks++;
                }
            }
            addPageView(records, row.id(), row.timeMs(), row.user(), row.items(), row.labels(), categories, false);
            impressions += row.items().size();
            clicks += row.labels().stream().filter(b -> b).count();
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("format", "mind");
        counts.put("files", files.stream().map(Path::toString).toList());
        counts.put("rows", (long) rows.size());
        counts.put("auctions", rows.size() + historyClicks);
        counts.put("impressions", impressions + historyClicks);
        counts.put("clicks", clicks + historyClicks);
        counts.put("history_clicks", historyClicks);
        return new ReplayLog(records, counts);
    }

    private record Row(String id, String user, long timeMs, List<String> history, List<String> items,
            List<Boolean> labels) {}

    private static List<Row> readRows(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String[] c = line.split("\t", -1);
                if (c.length != 5) {
                    throw new IOException(file + ":" + lineNumber + ": expected the 5 tab-separated columns of "
                            + "MIND behaviors.tsv, found " + c.length + " (--format mind reads behaviors.tsv)");
                }
                long timeMs;
                try {
                    timeMs = LocalDateTime.parse(c[2], TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
                } catch (RuntimeException e) {
                    throw new IOException(file + ":" + lineNumber + ": bad time '" + c[2] + "'", e);
                }
                List<String> items = new ArrayList<>();
                List<Boolean> labels = new ArrayList<>();
                for (String exposure : c[4].trim().split(" ")) {
                    int dash = exposure.lastIndexOf('-');
                    if (dash <= 0) {
                        throw new IOException(file + ":" + lineNumber + ": bad exposure '" + exposure + "'");
                    }
                    items.add(exposure.substring(0, dash));
                    labels.add(exposure.endsWith("-1"));
                }
                List<String> history = c[3].isBlank() ? List.of() : List.of(c[3].trim().split(" "));
                rows.add(new Row("mind-" + c[0], c[1], timeMs, history, items, labels));
            }
        }
        return rows;
    }

    private static void addPageView(List<GeneratedRecord> records, String auctionId, long timeMs, String user,
            List<String> items, List<Boolean> labels, Map<String, String> categories, boolean backfill) {
        List<Candidate> candidates = new ArrayList<>(items.size());
        List<AuctionWinner> winners = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            String category = categories.getOrDefault(items.get(i), "");
            candidates.add(new Candidate(items.get(i), "mind-" + category, "mind", category, BID_MICROS));
            winners.add(new AuctionWinner(items.get(i), i + 1, 0L));
        }
        RequestContext context = new RequestContext(null, null, null, null,
                (int) ((timeMs / 3_600_000) % 24), -1, List.of());
        records.add(GeneratedRecord.of(EventTopic.AD_AUCTIONS,
                new AdAuction(auctionId, timeMs, user, FEED, context, Pricing.CPC, 0L, candidates, winners,
                        backfill), timeMs));
        for (int i = 0; i < items.size(); i++) {
            String impressionId = auctionId + "-" + (i + 1);
            records.add(GeneratedRecord.of(EventTopic.AD_IMPRESSIONS,
                    new AdImpression(impressionId, auctionId, user, items.get(i), i + 1, timeMs), timeMs));
            if (labels.get(i)) {
                long clickTime = timeMs + CLICK_DELAY_MS + 1_000L * i;
                records.add(GeneratedRecord.of(EventTopic.AD_CLICKS,
                        new AdClick(impressionId + "-c", impressionId, user, items.get(i), clickTime), clickTime));
            }
        }
    }

    private static Map<String, String> categories(Path newsFile) throws IOException {
        Map<String, String> categories = new HashMap<>();
        if (!Files.exists(newsFile)) {
            return categories;
        }
        try (BufferedReader reader = Files.newBufferedReader(newsFile, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                int first = line.indexOf('\t');
                int second = first < 0 ? -1 : line.indexOf('\t', first + 1);
                if (second > first) {
                    categories.put(line.substring(0, first), line.substring(first + 1, second));
                }
            }
        }
        return categories;
    }
}
