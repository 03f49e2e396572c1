package org.ctrranker.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ctrranker.jobs.cli.CommandFailure;
import org.ctrranker.localenv.LocalRedisCluster;
import org.ctrranker.localenv.LocalRedisSentinel;
import org.ctrranker.operators.redis.RedisEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import redis.clients.jedis.HostAndPort;

/**
 * The job's Redis writer against Redis Clusters of growing size on this machine: what spreading the keys over more
 * primaries gives, each of which runs the compare-and-set script on a thread of its own; and, with --sentinel, against
 * a primary with a replica under Sentinel, without and with waiting for the replica after each pipeline.
 */
@Command(name = "redis", mixinStandardHelpOptions = true,
        description = {"Pipelined versioned writes (the job's Redis sink writer, ranking-sized keys) to local Redis",
                "Clusters of each size in --primaries, one after another, with Redis's own time per write; with --sentinel",
                "also to a primary and replica under Sentinel, without and with ctr.redis.wait-replicas=1; one JSON line."})
public final class BenchRedisCommand implements Callable<Integer> {

    @Option(names = "--primaries", split = ",", defaultValue = "1,3",
            description = "Cluster sizes to measure, in turn (default: ${DEFAULT-VALUE}).")
    List<Integer> primaries;

    @Option(names = "--writes", defaultValue = "200000", description = "Writes per cluster (default: ${DEFAULT-VALUE}).")
    int writes;

    @Option(names = "--writers", defaultValue = "1",
            description = "Writers, each on a thread of its own and with a share of the keys, as the job's sink subtasks "
                    + "(default: ${DEFAULT-VALUE}).")
    int writers;

    @Option(names = "--pipeline-keys", defaultValue = "1000",
            description = "Keys buffered before a pipeline goes out (default: ${DEFAULT-VALUE}).")
    int pipelineKeys;

    @Option(names = "--sentinel",
            description = "Also a primary with a replica under Sentinel: the writes without waiting for the replica and "
                    + "with a wait for it after each pipeline (ctr.redis.wait-replicas=1), what that durability costs.")
    boolean sentinel;

    @Override
    public Integer call() throws Exception {
        if (primaries.isEmpty() || primaries.stream().anyMatch(n -> n < 1 || n > 16)) {
            throw new CommandFailure("--primaries takes cluster sizes from 1 to 16, e.g. 1,3, got " + primaries);
        }
        if (writes < 1 || pipelineKeys < 1 || writers < 1 || writers > 64) {
            throw new CommandFailure("--writes and --pipeline-keys must be >= 1, --writers from 1 to 64");
        }
        Path work = Files.createTempDirectory("ctr-bench-redis");
        List<Map<String, Object>> runs = new ArrayList<>();
        try {
            measure(work, runs);
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("cores", Runtime.getRuntime().availableProcessors());
        report.put("clusters", runs.stream().filter(run -> run.containsKey("primaries")).toList());
        if (sentinel) {
            report.put("sentinel", runs.stream().filter(run -> run.containsKey("wait_replicas")).toList());
        }
        System.out.println(new ObjectMapper().writeValueAsString(report));
        return 0;
    }

    private void measure(Path work, List<Map<String, Object>> runs) throws Exception {
        for (int size : primaries) {
            System.err.println("Redis Cluster of " + size + " primaries: " + writes + " writes");
            try (LocalRedisCluster cluster = LocalRedisCluster.start(work.resolve("cluster-" + size), size)) {
                List<HostAndPort> servers = cluster.ports().stream().map(port -> new HostAndPort("127.0.0.1", port)).toList();
                Map<String, Object> run = new LinkedHashMap<>();
                run.put("primaries", size);
                run.putAll(RawRedisWrites.run(RedisEndpoint.parse(cluster.url()), servers, writes, pipelineKeys, writers));
                runs.add(run);
            }
        }
        if (sentinel) {
            try (LocalRedisSentinel servers = LocalRedisSentinel.start(work.resolve("sentinel"), "bench-redis")) {
                RedisEndpoint endpoint = RedisEndpoint.parse(servers.url());
                List<HostAndPort> primary = List.of(new HostAndPort("127.0.0.1", servers.primaryPort()));
                for (int replicas : new int[] {0, 1}) {
                    System.err.println("primary and replica under Sentinel, waiting for " + replicas + " replicas: "
                            + writes + " writes");
                    servers.command(servers.primaryPort(), "FLUSHALL"); // each run writes new keys, as the first did
                    Map<String, Object> run = new LinkedHashMap<>();
                    run.put("wait_replicas", replicas);
                    run.putAll(RawRedisWrites.run(replicas == 0 ? endpoint : endpoint.withReplicaAcks(replicas, 100),
                            primary, writes, pipelineKeys, writers));
                    runs.add(run);
                }
            }
        }
    }
}
