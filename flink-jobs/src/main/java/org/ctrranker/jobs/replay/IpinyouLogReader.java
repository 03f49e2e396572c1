package org.ctrranker.jobs.replay;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * Reads raw iPinYou RTB logs (27 tab-separated columns; the test files have two more) as events:
 * each row is a won CPM auction with one candidate (our bid), the paying price as the market price
 * and the slot price as the floor, its impression, and its click when the row has one. iPinYou
 * prices are CPM in fen (0.01 CNY): one fen is 10,000 micros. The logs record no click time, so a
 * click is placed {@link #CLICK_DELAY_MS} after its impression. Times are Beijing time.
 */
public final class IpinyouLogReader {

    static final long MICROS_PER_FEN = 10_000;
    static final long CLICK_DELAY_MS = 5_000;
    private static final int COLUMNS = 27;
    private static final ZoneId BEIJING = ZoneId.of("Asia/Shanghai");
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS");

    private IpinyouLogReader() {}

    public static ReplayLog read(List<Path> files) throws IOException {
        List<GeneratedRecord> records = new ArrayList<>();
        long auctions = 0;
        long clicks = 0;
        long marketAboveBid = 0;
        long repeatedBidIds = 0;
        Map<String, Integer> bidIdUses = new java.util.HashMap<>();
        for (Path file : files) {
            try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                int lineNumber = 0;
                while ((line = reader.readLine()) != null) {
                    lineNumber++;
                    if (line.isBlank()) {
                        continue;
                    }
                    String[] c = line.split("\t", -1);
                    if (c.length < COLUMNS) {
                        throw new IOException(file + ":" + lineNumber + ": expected at least " + COLUMNS
                                + " tab-separated columns of an iPinYou log, found " + c.length
                                + " (is this a raw .log.txt file? --format ipinyou reads those)");
                    }
                    // The logs reuse a bid id now and then for another user and time; auction ids must stay unique.
                    int use = bidIdUses.merge(c[3], 1, Integer::sum);
                    if (use > 1) {
                        repeatedBidIds++;
                        c[3] = c[3] + "~" + use;
                    }
                    Row row = parse(c, file, lineNumber);
                    auctions++;
                    if (row.payFen > row.bidFen) {
                        marketAboveBid++;
                    }
                    records.addAll(row.events());
                    if (row.clicked) {
                        clicks++;
                    }
                }
            }
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("format", "ipinyou");
        counts.put("files", files.stream().map(Path::toString).toList());
        counts.put("auctions", auctions);
        counts.put("impressions", auctions);
        counts.put("clicks", clicks);
        counts.put("market_price_above_bid", marketAboveBid);
        counts.put("repeated_bid_ids", repeatedBidIds);
        return new ReplayLog(records, counts);
    }

    private record Row(String bidId, long timeMs, String user, Scenario scenario, RequestContext context,
            long floorFen, String creative, String advertiser, long bidFen, long payFen, boolean clicked) {

        List<GeneratedRecord> events() {
            String adId = "ipy-" + creative;
            String campaign = "ipy-" + advertiser;
            AdAuction auction = new AdAuction(bidId, timeMs, user, scenario, context, Pricing.CPM,
                    floorFen * MICROS_PER_FEN,
                    List.of(new Candidate(adId, campaign, campaign, "", bidFen * MICROS_PER_FEN)),
                    List.of(new AuctionWinner(adId, 1, payFen * MICROS_PER_FEN)), false);
            String impressionId = bidId + "-imp";
            List<GeneratedRecord> events = new ArrayList<>(3);
            events.add(GeneratedRecord.of(EventTopic.AD_AUCTIONS, auction, timeMs));
            events.add(GeneratedRecord.of(EventTopic.AD_IMPRESSIONS,
                    new AdImpression(impressionId, bidId, user, adId, 1, timeMs), timeMs));
            if (clicked) {
                long clickTime = timeMs + CLICK_DELAY_MS;
                events.add(GeneratedRecord.of(EventTopic.AD_CLICKS,
                        new AdClick(impressionId + "-c", impressionId, user, adId, clickTime), clickTime));
            }
            return events;
        }
    }

    private static Row parse(String[] c, Path file, int lineNumber) throws IOException {
        try {
            long timeMs = LocalDateTime.parse(c[4], TIMESTAMP).atZone(BEIJING).toInstant().toEpochMilli();
            Scenario scenario = new Scenario(orNull(c[12]) == null ? "unknown" : c[12], c[15], orNull(c[11]),
                    Integer.parseInt(c[16]), Integer.parseInt(c[17]), orNull(c[18]), orNull(c[19]));
            List<String> tags = orNull(c[26]) == null ? List.of() : Arrays.asList(c[26].split(","));
            RequestContext context = new RequestContext(null, orNull(c[7]), orNull(c[9]), orNull(c[10]),
                    Integer.parseInt(c[2]), Integer.parseInt(c[1]), tags);
            return new Row(c[3], timeMs, c[6], scenario, context, Long.parseLong(c[20]), c[21], c[25],
                    Long.parseLong(c[22]), Long.parseLong(c[23]), "1".equals(c[0]));
        } catch (RuntimeException e) {
            throw new IOException(file + ":" + lineNumber + ": not a valid iPinYou log row: " + e.getMessage(), e);
        }
    }

    private static String orNull(String value) {
        return value == null || value.isEmpty() || value.equals("null") || value.equals("Na") ? null : value;
    }
}
