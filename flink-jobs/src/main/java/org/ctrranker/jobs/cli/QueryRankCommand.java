package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ctrranker.operators.scoring.ServingReader;
import org.ctrranker.operators.scoring.ServingReader.RankedAd;
import org.ctrranker.operators.scoring.ServingReader.Ranking;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bin/ctr query rank AUCTION_ID}: the auction's live ranking as the job wrote it to Redis. */
@Command(name = "rank", mixinStandardHelpOptions = true,
        description = {"Prints an auction's ranking from Redis (<prefix>:rank:{AUCTION_ID}): the top ads by eCPM with",
                "their pCTR, the model version that scored them, and the ranking's age (now minus the time it was scored).",
                "Exit status 1 when Redis holds no ranking for the auction."})
public final class QueryRankCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServingStateOptions serving;

    @Parameters(index = "0", paramLabel = "AUCTION_ID", description = "The auction id, as in the events.")
    String auctionId;

    @Option(names = "--top", defaultValue = "10", paramLabel = "K", description = "Ads to show (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--json", description = "One JSON object instead of the readable layout.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (top < 1) {
            throw new CommandFailure("--top must be at least 1");
        }
        Optional<Ranking> found = serving.read(jedis -> ServingReader.ranking(jedis, serving.keyPrefix(), auctionId));
        PrintWriter out = spec.commandLine().getOut();
        if (found.isEmpty()) {
            spec.commandLine().getErr().println("ctr query rank: no ranking for " + auctionId
                    + " (not scored yet, expired after its TTL, or another --key-prefix)");
            return 1;
        }
        Ranking r = found.get();
        long ageMs = System.currentTimeMillis() - r.scoredAtMs();
        List<RankedAd> shown = r.ads().subList(0, Math.min(top, r.ads().size()));
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(asJson(r, shown, ageMs)));
        } else {
            out.printf("auction %s  (%s, expires in %s)%n", auctionId, r.key(), QueryText.duration(r.ttlMs()));
            out.printf("model %s v%d, auction time %s, scored %s ago%n", r.modelName(), r.modelVersion(),
                    Instant.ofEpochMilli(r.eventTimeMs()), QueryText.age(ageMs));
            out.printf("%4s  %-24s %10s %14s%n", "rank", "ad_id", "pCTR", "eCPM (micros)");
            for (int i = 0; i < shown.size(); i++) {
                RankedAd ad = shown.get(i);
                out.printf("%4d  %-24s %10.6f %14.2f%n", i + 1, ad.adId(), ad.pctr(), ad.ecpm());
            }
            if (shown.size() < r.ads().size()) {
                out.printf("(%d of %d candidates; --top to see more)%n", shown.size(), r.ads().size());
            }
        }
        out.flush();
        return 0;
    }

    private Map<String, Object> asJson(Ranking r, List<RankedAd> shown, long ageMs) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("auction_id", auctionId);
        json.put("key", r.key());
        json.put("ttl_ms", r.ttlMs() < 0 ? null : r.ttlMs());
        json.put("model_name", r.modelName());
        json.put("model_version", r.modelVersion());
        json.put("event_time_ms", r.eventTimeMs());
        json.put("scored_at_ms", r.scoredAtMs());
        json.put("age_ms", ageMs);
        json.put("candidates", r.ads().size());
        List<Map<String, Object>> ads = new ArrayList<>();
        for (int i = 0; i < shown.size(); i++) {
            Map<String, Object> ad = new LinkedHashMap<>();
            ad.put("rank", i + 1);
            ad.put("ad_id", shown.get(i).adId());
            ad.put("pctr", shown.get(i).pctr());
            ad.put("ecpm", shown.get(i).ecpm());
            ads.add(ad);
        }
        json.put("ads", ads);
        return json;
    }
}
