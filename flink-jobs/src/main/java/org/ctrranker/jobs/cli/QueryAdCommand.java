package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ctrranker.events.ItemCounts;
import org.ctrranker.operators.redis.FeatureReader;
import org.ctrranker.operators.redis.RedisKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code bin/ctr query ad AD_ID}: the ad's impression and click counts as the job mirrored them to Redis. */
@Command(name = "ad", mixinStandardHelpOptions = true,
        description = {"Prints an ad's counts from Redis (<prefix>:item:{AD_ID}): its impressions and the clicks on them",
                "(one per impression, within the attribution window) at the end of the newest event-time tick they",
                "changed in, the CTR they give, and how long ago in event time that was against now.",
                "The job writes them only with ctr.features.item.redis-mirror=true (off by default).",
                "Exit status 1 when Redis holds no counts for the ad."})
public final class QueryAdCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServingStateOptions serving;

    @Parameters(index = "0", paramLabel = "AD_ID", description = "The ad id, as in the events.")
    String adId;

    @Option(names = "--json", description = "One JSON object instead of the readable layout.")
    boolean json;

    private record Mirrored(Optional<ItemCounts> counts, long ttlMs) {}

    @Override
    public Integer call() throws IOException {
        String key = RedisKeys.item(serving.keyPrefix(), adId);
        Mirrored found = serving.read(jedis ->
                new Mirrored(FeatureReader.itemCounts(jedis, serving.keyPrefix(), adId), jedis.pttl(key)));
        PrintWriter out = spec.commandLine().getOut();
        if (found.counts().isEmpty()) {
            spec.commandLine().getErr().println("ctr query ad: no counts for " + adId
                    + " (the job mirrors them only with ctr.features.item.redis-mirror=true; else no impression counted"
                    + " yet, expired after its TTL, or another --key-prefix)");
            return 1;
        }
        ItemCounts c = found.counts().get();
        Double ctr = c.getImpressions() == 0 ? null : (double) c.getClicks() / c.getImpressions();
        long ageMs = System.currentTimeMillis() - c.getAsOfMs();
        if (json) {
            Map<String, Object> object = new LinkedHashMap<>();
            object.put("ad_id", adId);
            object.put("key", key);
            object.put("ttl_ms", found.ttlMs() < 0 ? null : found.ttlMs());
            object.put("as_of_ms", c.getAsOfMs());
            object.put("age_ms", ageMs);
            object.put("impressions", c.getImpressions());
            object.put("clicks", c.getClicks());
            object.put("ctr", ctr);
            out.println(new ObjectMapper().writeValueAsString(object));
        } else {
            out.printf("ad %s  (%s, expires in %s)%n", adId, key, QueryText.duration(found.ttlMs()));
            out.printf("as of %s (%s ago): %d impressions, %d clicks, CTR %s%n", Instant.ofEpochMilli(c.getAsOfMs()),
                    QueryText.age(ageMs), c.getImpressions(), c.getClicks(), ctr == null ? "-" : String.format("%.4f", ctr));
        }
        out.flush();
        return 0;
    }
}
