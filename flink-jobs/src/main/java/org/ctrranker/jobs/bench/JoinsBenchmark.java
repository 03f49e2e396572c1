package org.ctrranker.jobs.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.ctrranker.events.AdAuction;
import org.ctrranker.events.AdClick;
import org.ctrranker.events.AdImpression;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.jobs.generate.GeneratedRecord;
import org.ctrranker.jobs.generate.GeneratorConfig;
import org.ctrranker.jobs.generate.SyntheticEventGenerator;
import org.ctrranker.operators.ingest.EventTimes;
import org.ctrranker.operators.joins.AuctionImpressionJoin;
import org.ctrranker.operators.joins.ClickAttribution;
import org.ctrranker.operators.joins.JoinConfig;
import org.ctrranker.operators.serde.AvroTypeInfo;


/**
 * Throughput of the auction-impression join and click attribution at parallelism 1 with
 * exactly-once checkpointing, over generated events held in memory (no Kafka, no decoding), for a
 * given state backend; and the checkpointed bytes each open impression costs.
 */
public final class JoinsBenchmark {

    private static final String JOIN_THREADS = "join";
    private static final String CHECKPOINT_THREADS = "checkpoint";
    private static final String SOURCE_THREADS = "source";
    private static final String OTHER_THREADS = "other";

    private final List<AdAuction> auctions = new ArrayList<>();
    private final List<AdImpression> impressions = new ArrayList<>();
    private final List<AdClick> clicks = new ArrayList<>();

    public JoinsBenchmark(long auctionCount, long seed) {
        new SyntheticEventGenerator(GeneratorConfig.builder().seed(seed).auctions(auctionCount).malformedRate(0)
                .build()).run(this::keep);
    }

    private void keep(GeneratedRecord r) {
        if (r.malformed()) {
            return;
        }
        switch (r.topic()) {
            case AD_AUCTIONS -> auctions.add((AdAuction) r.value());
            case AD_IMPRESSIONS -> impressions.add((AdImpression) r.value());
            default -> clicks.add((AdClick) r.value());
        }
    }

    public long events() {
        return auctions.size() + impressions.size() + clicks.size();
    }

    /**
     * @param stateBackend {@code hashmap} or {@code rocksdb}
     * @param flinkOptions more options for the mini cluster (e.g. RocksDB's timer service); the backend is {@code stateBackend}
     */
    public Map<String, Object> run(String stateBackend, java.nio.file.Path checkpointDir, long checkpointIntervalMs,
            Configuration flinkOptions) throws Exception {
        Configuration conf = new Configuration(flinkOptions);
        conf.set(StateBackendOptions.STATE_BACKEND, stateBackend);
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.getConfig().enableObjectReuse();
        if (checkpointIntervalMs > 0) {
            env.enableCheckpointing(checkpointIntervalMs, CheckpointingMode.EXACTLY_ONCE);
        }
        JoinConfig joins = JoinConfig.builder().build();

        DataStream<AdAuction> a = input(env, auctions, AdAuction.class);
        DataStream<AdImpression> i = input(env, impressions, AdImpression.class);
        DataStream<AdClick> c = input(env, clicks, AdClick.class);
        a.connect(i).keyBy(AdAuction::getAuctionId, AdImpression::getAuctionId)
                .process(new AuctionImpressionJoin(joins), AvroTypeInfo.forRecord(TrainingSample.class))
                .connect(c).keyBy(TrainingSample::getImpressionId, AdClick::getImpressionId)
                .process(new ClickAttribution(joins), AvroTypeInfo.forRecord(TrainingSample.class))
                .sinkTo(new DiscardingSink<>());
        JobExecutionResult result;
        Map<String, Double> cpu;
        try (ThreadCpuSampler sampler = new ThreadCpuSampler(JoinsBenchmark::threadGroup)) {
            result = env.execute("bench-joins-" + stateBackend);
            sampler.close();
            cpu = sampler.cpuSecondsByGroup();
        }
        double operatorCpuSeconds = cpu.getOrDefault(JOIN_THREADS, 0.0) + cpu.getOrDefault(CHECKPOINT_THREADS, 0.0);
        double seconds = result.getNetRuntime() / 1000.0;
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("state_backend", stateBackend);
        figures.put("events", events());
        figures.put("checkpoint_interval_ms", checkpointIntervalMs);
        figures.put("seconds", Math.round(seconds * 100) / 100.0);
        figures.put("events_per_second", Math.round(events() / seconds));
        figures.put("join_cpu_seconds", round2(cpu.getOrDefault(JOIN_THREADS, 0.0)));
        figures.put("checkpoint_cpu_seconds", round2(cpu.getOrDefault(CHECKPOINT_THREADS, 0.0)));
        figures.put("source_cpu_seconds", round2(cpu.getOrDefault(SOURCE_THREADS, 0.0)));
        figures.put("other_cpu_seconds", round2(cpu.getOrDefault(OTHER_THREADS, 0.0)));
        figures.put("events_per_cpu_second", Math.round(events() / operatorCpuSeconds));
        figures.put("labelled", result.getAllAccumulatorResults().get("labelled"));
        return figures;
    }

    /**
     * Serialized bytes of state per open impression, as a checkpoint holds them: the open sample and
     * its key and two timers in attribution, plus the auction, its joined-id entries and its timer in
     * the join, spread over the auction's impressions.
     */
    public Map<String, Object> stateBytesPerOpenImpression() throws Exception {
        TypeSerializer<AdAuction> auctionSerializer = serializer(AdAuction.class);
        long auctionBytes = 0;
        for (AdAuction auction : auctions) {
            auctionBytes += size(auctionSerializer, auction) + auction.getAuctionId().length() + 1 + 8 + 8;
        }
        JoinConfig joins = JoinConfig.builder().build();
        Map<String, AdAuction> byId = new LinkedHashMap<>();
        auctions.forEach(x -> byId.put(x.getAuctionId(), x));
        TypeSerializer<TrainingSample> sampleSerializer = serializer(TrainingSample.class);
        long sampleBytes = 0;
        long joinedIdBytes = 0;
        for (AdImpression impression : impressions) {
            TrainingSample sample = org.ctrranker.operators.joins.ImpressionSamples.of(
                    byId.get(impression.getAuctionId()), impression, joins.attributionWindowMs());
            int key = impression.getImpressionId().length() + 1;
            sampleBytes += size(sampleSerializer, sample) + key + 2 * (key + 8);
            joinedIdBytes += key + 1;
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("attribution_bytes_per_open_impression", sampleBytes / Math.max(1, impressions.size()));
        figures.put("join_bytes_per_impression", (auctionBytes + joinedIdBytes) / Math.max(1, impressions.size()));
        return figures;
    }

    private static <T extends SpecificRecord> DataStream<T> input(StreamExecutionEnvironment env, List<T> events,
            Class<T> type) {
        return env.fromData(events, AvroTypeInfo.forRecord(type))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<T>forBoundedOutOfOrderness(Duration.ofSeconds(5))
                        .withTimestampAssigner((e, t) -> EventTimes.of(e)));
    }

    /**
     * The join and attribution run in the keyed task threads (with their input deserialisation and the
     * synchronous part of checkpoints); the asynchronous part of checkpoints runs beside them. Sources
     * here read an in-memory collection, so their CPU belongs to the benchmark, not to the joins.
     */
    private static String threadGroup(String name) {
        if (name.startsWith("Co-Keyed-Process")) {
            return JOIN_THREADS;
        } else if (name.startsWith("AsyncOperations")) {
            return CHECKPOINT_THREADS;
        } else if (name.startsWith("Source:")) {
            return SOURCE_THREADS;
        }
        return name.startsWith("bench-thread-cpu-sampler") || name.equals("main") ? null : OTHER_THREADS;
    }

    private static double round2(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private static <T extends SpecificRecord> TypeSerializer<T> serializer(Class<T> type) {
        return AvroTypeInfo.forRecord(type).createSerializer(new SerializerConfigImpl());
    }

    private static <T> int size(TypeSerializer<T> serializer, T value) throws java.io.IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(value, out);
        return out.length();
    }

}
