package org.ctrranker.models.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ctrranker.models.FeatureHash;

/** Readers that turn the public data sets in ../shared/data into logged requests in time order. */
public final class DataSets {

    private DataSets() {}

    // ---------------------------------------------------------------- MIND

    /**
     * The Adam rate for MIND (evaluate's default there, and the job's in MIND replays: {@code demo --replay mind},
     * {@code bench parity}). Trained on its first three days and tested on the fourth (all before the test split),
     * online AUC rose as the rate fell to 0.0003 and fell below it, at two seeds. Synthetic data and ad streams want
     * the job's faster default, 0.002 (per-user terms learnt from a few impressions each): 0.0005 cost synthetic data
     * 0.008 AUC at 60,000 auctions.
     */
    public static final String MIND_LEARNING_RATE = "0.0003";

    private static final DateTimeFormatter MIND_TIME = DateTimeFormatter.ofPattern("M/d/yyyy h:mm:ss a", Locale.US);

    /**
     * MIND behaviors: one request per impression log, the exposed news as items, the row's clicked
     * history as the user's earlier clicks. Category and subcategory come from news.tsv beside it.
     *
     * @param testFrom rows at or after this instant (UTC) form the test split
     */
    public static List<LoggedAuction> mind(List<Path> behaviors, long testFrom) throws IOException {
        Map<String, String[]> news = new HashMap<>();
        Path newsFile = behaviors.get(0).resolveSibling("news.tsv");
        if (Files.exists(newsFile)) {
            try (BufferedReader r = Files.newBufferedReader(newsFile, StandardCharsets.UTF_8)) {
                for (String line; (line = r.readLine()) != null; ) {
                    String[] c = line.split("\t", 4);
                    if (c.length >= 3) {
                        news.put(c[0], new String[] {c[1], c[2]});
                    }
                }
            }
        }
        List<LoggedAuction> out = new ArrayList<>();
        for (Path file : behaviors) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] c = line.split("\t");
                if (c.length < 5) {
                    continue;
                }
                long time = LocalDateTime.parse(c[2], MIND_TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
                int hour = LocalDateTime.parse(c[2], MIND_TIME).getHour();
                List<LoggedAuction.LoggedItem> items = new ArrayList<>();
                for (String exposed : c[4].trim().split(" ")) {
                    int dash = exposed.lastIndexOf('-');
                    String id = exposed.substring(0, dash);
                    String[] cat = news.getOrDefault(id, new String[] {"none", "none"});
                    items.add(new LoggedAuction.LoggedItem(id, new long[] {FeatureHash.of("category", cat[0]),
                        FeatureHash.of("subcategory", cat[1])}, cat[1], 0, Integer.parseInt(exposed.substring(dash + 1)),
                        Double.NaN, Double.NaN, new long[] {FeatureHash.of("category", cat[0])}, Double.NaN));
                }
                List<String> history = c[3].isBlank() ? List.of() : Arrays.asList(c[3].trim().split(" "));
                out.add(new LoggedAuction(c[1], time, new long[] {FeatureHash.of("hour", Integer.toString(hour))}, items,
                        time >= testFrom, history));
            }
        }
        out.sort(Comparator.comparingLong(LoggedAuction::timeMs));
        return out;
    }

    /** Midnight UTC of an ISO date, the --split-at boundary. */
    public static long startOf(String isoDate) {
        return LocalDate.parse(isoDate).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    // ---------------------------------------------------------------- iPinYou, field-index form

    /**
     * iPinYou {@code click idx:1 ...} rows: one request per row, one key per field position; the
     * creative (log column 21, named by featindex.txt beside the file) is the item. Rows carry no
     * user or time, so histories stay empty.
     */
    public static List<LoggedAuction> ipinyouFm(List<Path> train, List<Path> test) throws IOException {
        Map<String, String> creativeOf = new HashMap<>();
        Path index = train.get(0).resolveSibling("featindex.txt");
        if (Files.exists(index)) {
            for (String line : Files.readAllLines(index, StandardCharsets.UTF_8)) {
                if (line.startsWith("21:")) {
                    String[] c = line.split("\t");
                    creativeOf.put(c[1], c[0]);
                }
            }
        }
        List<LoggedAuction> out = new ArrayList<>();
        long[] row = {0};
        for (List<Path> files : List.of(train, test)) {
            boolean isTest = files == test;
            for (Path file : files) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] c = line.trim().split(" ");
                    if (c.length < 2) {
                        continue;
                    }
                    String creative = "none";
                    long[] keys = new long[15];
                    int k = 0;
                    for (int i = 1; i < c.length; i++) {
                        String idx = c[i].substring(0, c[i].indexOf(':'));
                        if (creativeOf.containsKey(idx)) {
                            creative = creativeOf.get(idx);
                        } else if (k < keys.length) {
                            keys[k++] = FeatureHash.of("f" + k, idx);
                        }
                    }
                    long n = row[0]++;
                    out.add(new LoggedAuction("row-" + n, n * 1000, new long[0], List.of(new LoggedAuction.LoggedItem(
                            creative, keys, null, 0, Integer.parseInt(c[0]), Double.NaN, Double.NaN, new long[] {keys[0]},
                            Double.NaN)), isTest, List.of()));
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- iPinYou raw logs

    private static final DateTimeFormatter IPINYOU_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS");

    /**
     * Raw iPinYou RTB logs: one request per row with the bid and the paying (market) price; the
     * creative is the item, the slot fields the context and the AM2 scenario.
     */
    public static List<LoggedAuction> ipinyouLog(List<Path> train, List<Path> test) throws IOException {
        List<LoggedAuction> out = new ArrayList<>();
        for (List<Path> files : List.of(train, test)) {
            boolean isTest = files == test;
            List<LoggedAuction> part = new ArrayList<>();
            for (Path file : files) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] c = line.split("\t");
                    if (c.length < 27) {
                        continue;
                    }
                    long time = LocalDateTime.parse(c[4], IPINYOU_TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
                    String size = c[16] + "x" + c[17];
                    long[] context = {FeatureHash.of("weekday", c[1]), FeatureHash.of("hour", c[2]),
                        FeatureHash.of("useragent", c[7]), FeatureHash.of("region", c[9]), FeatureHash.of("city", c[10]),
                        FeatureHash.of("exchange", c[11]), FeatureHash.of("domain", c[12]), FeatureHash.of("slot", c[15]),
                        FeatureHash.of("size", size), FeatureHash.of("visibility", c[18]), FeatureHash.of("format", c[19]),
                        FeatureHash.of("floor", Long.toString(bucket(Double.parseDouble(c[20]))))};
                    long[] scenario = {FeatureHash.of("slot", c[15]), FeatureHash.of("visibility", c[18]),
                        FeatureHash.of("size", size), FeatureHash.of("exchange", c[11])};
                    part.add(new LoggedAuction(c[6], time, context, List.of(new LoggedAuction.LoggedItem(c[21],
                            new long[] {FeatureHash.of("advertiser", c[25]), FeatureHash.of("keypage", c[24])}, null, 0,
                            Integer.parseInt(c[0]), Double.parseDouble(c[22]), Double.parseDouble(c[23]), scenario, Double.NaN)),
                            isTest, List.of()));
                }
            }
            part.sort(Comparator.comparingLong(LoggedAuction::timeMs));
            out.addAll(part);
        }
        return out;
    }

    /** A log bucket of a floor price, so nearby floors share an embedding. */
    static long bucket(double price) {
        return price <= 0 ? 0 : (long) Math.floor(Math.log1p(price) * 2);
    }
}
