package org.ctrranker.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ctrranker.jobs.BoundedRun;
import org.ctrranker.jobs.config.CtrConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the ctr-ranking job locally in Flink's mini cluster.",
                "--bounded: over what the input topics hold now, then stops and prints one JSON line of counts",
                "(events read, joined, labelled, positives, late, orphan and duplicate clicks, dead letters)."})
public final class RunCommand implements Callable<Integer> {

    @Mixin
    KafkaOptions kafka;

    @Mixin
    RedisOptions redis;

    @Option(names = "--bounded", required = true,
            description = "Read the topics to their current end and stop (the only mode so far).")
    boolean bounded;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file overriding the defaults.")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one setting (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--parallelism", defaultValue = "2", description = "Parallelism of every operator (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Override
    public Integer call() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(overrides);
        settings.putIfAbsent("ctr.kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.putIfAbsent("ctr.redis.url", redis.url());
        CtrConfig config;
        try {
            config = CtrConfig.load(configFile, settings);
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(e.getMessage());
        }
        Map<String, Object> counts = BoundedRun.run(config, parallelism);
        System.out.println(new ObjectMapper().writeValueAsString(counts));
        return 0;
    }
}
