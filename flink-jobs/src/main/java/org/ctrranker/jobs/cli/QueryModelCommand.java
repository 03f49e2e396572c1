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
import org.ctrranker.operators.scoring.ServingReader.ModelVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bin/ctr query model}: the live model version, its metrics and age, and optionally every stored version. */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = {"Prints the live version of a model from Redis (<prefix>:model:{NAME}:current): its number,",
                "metrics (progressive AUC and log loss, held-out AUC), samples trained, and age (now minus its",
                "publication). --versions lists every stored version too. Exit status 1 when none is published."})
public final class QueryModelCommand implements Callable<Integer> {

    private static final String PUBLISHED_AT = "published_processing_time_ms";
    private static final String EVENT_TIME = "event_time_ms";

    @Spec
    CommandSpec spec;

    @Mixin
    ServingStateOptions serving;

    @Option(names = "--name", defaultValue = "ctr", paramLabel = "NAME",
            description = "The job's ctr.model.name (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--versions", description = "Also list every stored version (without parameters), oldest first.")
    boolean versions;

    @Option(names = "--json", description = "One JSON object instead of the readable layout.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Optional<ModelVersion> live = serving.read(jedis -> ServingReader.liveModel(jedis, serving.keyPrefix(), name));
        List<ModelVersion> stored = versions
                ? serving.read(jedis -> ServingReader.versions(jedis, serving.keyPrefix(), name))
                : List.of();
        PrintWriter out = spec.commandLine().getOut();
        if (live.isEmpty()) {
            spec.commandLine().getErr().println("ctr query model: no live version of model " + name
                    + " (nothing published yet: the trainer publishes every ctr.training.publish-every-samples labelled"
                    + " samples; or another --name / --key-prefix)");
            return 1;
        }
        long now = System.currentTimeMillis();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("model_name", name);
            doc.put("live", asJson(live.get(), now));
            if (versions) {
                List<Map<String, Object>> all = new ArrayList<>();
                stored.forEach(v -> all.add(asJson(v, now)));
                doc.put("versions", all);
            }
            out.println(new ObjectMapper().writeValueAsString(doc));
        } else {
            ModelVersion v = live.get();
            out.printf("model %s: live version %d  (%s, expires in %s)%n", name, v.version(), v.key(),
                    QueryText.duration(v.ttlMs()));
            out.printf("published %s ago%s%n", age(v, now),
                    v.fields().containsKey(EVENT_TIME) ? ", trained up to event time "
                            + Instant.ofEpochMilli(Long.parseLong(v.fields().get(EVENT_TIME))) : "");
            v.fields().forEach((field, value) -> out.printf("  %-24s %s%n", field, value));
            if (versions) {
                out.printf("versions stored: %d%n", stored.size());
                for (ModelVersion s : stored) {
                    Map<String, String> f = s.fields();
                    out.printf("  v%-5d %-9s progressive_auc %-8s samples %-9s published %s ago%n", s.version(),
                            f.getOrDefault("status", "-"), shortNumber(f.get("progressive_auc")),
                            f.getOrDefault("samples_trained", "-"), age(s, now));
                }
            }
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> asJson(ModelVersion v, long now) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("key", v.key());
        json.put("version", v.version());
        json.put("ttl_ms", v.ttlMs() < 0 ? null : v.ttlMs());
        String published = v.fields().get(PUBLISHED_AT);
        json.put("age_ms", published == null ? null : now - Long.parseLong(published));
        json.put("fields", v.fields());
        return json;
    }

    private static String age(ModelVersion v, long now) {
        String published = v.fields().get(PUBLISHED_AT);
        return published == null ? "?" : QueryText.age(now - Long.parseLong(published));
    }

    private static String shortNumber(String value) {
        if (value == null) {
            return "-";
        }
        try {
            return String.format("%.4f", Double.parseDouble(value));
        } catch (NumberFormatException e) {
            return value;
        }
    }
}
