package org.ctrranker.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamEdge;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.AbstractUdfStreamOperator;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.ctrranker.jobs.config.CtrConfig;
import org.ctrranker.jobs.io.ConfiguredJobIO;
import org.ctrranker.operators.features.UserFeedbackFunction;
import org.junit.jupiter.api.Test;

/**
 * The job's graph: the stages that serve rankings take unaligned checkpoint barriers on every input, so that
 * no checkpoint holds their auctions back until the slowest input's barrier (the trainer's) comes, and share
 * their threads with no exactly-once sink.
 */
class CtrRankingJobGraphTest {

    @Test
    void theScorerAndTheRedisWriterCheckpointWithoutAligningTheirInputs() {
        StreamGraph graph = graph();
        StreamNode scorer = node(graph, "auction scorer");
        StreamNode writes = node(graph, "serving writes");
        assertThat(scorer.getInEdges()).hasSize(3).allMatch(StreamEdge::supportsUnalignedCheckpoints);
        assertThat(writes.getInEdges()).hasSizeGreaterThanOrEqualTo(3).allMatch(StreamEdge::supportsUnalignedCheckpoints);
        // The broadcast of the versions still aligns, at the stage that only routes them.
        StreamNode routing = node(graph, "one copy per scorer");
        assertThat(routing.getInEdges()).noneMatch(StreamEdge::supportsUnalignedCheckpoints);
    }

    @Test
    void noTaskReadsAUnionOfStreamsFromOtherTasks() {
        // Flink 2.2.1's UnionInputGate can spin forever once one of the streams it reads has ended (MergedStreams)
        StreamGraph graph = graph();
        JobGraph job = graph.getJobGraph();
        for (StreamNode node : graph.getStreamNodes()) {
            Map<Integer, Long> edgesPerInput = node.getInEdges().stream()
                    .collect(Collectors.groupingBy(StreamEdge::getTypeNumber, Collectors.counting()));
            assertThat(edgesPerInput.values()).as("streams per input of %s", node.getOperatorName())
                    .allMatch(streams -> streams == 1);
        }
        assertThat(vertex(job, "serving writes").getName()).contains("serving state -> Redis: Writer");
    }

    @Test
    void theScorerRunsInNoTaskWithTheExactlyOnceScoresSink() {
        JobGraph job = graph().getJobGraph();
        // Chained, the sink's broker round trips at every checkpoint (flush, the next transaction, the commit)
        // would run on the scorer's thread and stop scoring meanwhile.
        assertThat(vertex(job, "auction scorer").getName()).doesNotContain("ctr-scores");
        assertThat(vertex(job, "ctr-scores: Writer").getName()).doesNotContain("auction scorer");
    }

    @Test
    void theModelsParametersGoToRedisThroughAWriterOfTheirOwn() {
        // In the rankings' writer, a version's megabytes held back every ranking sent with or after them.
        StreamGraph graph = graph();
        StreamNode trainer = node(graph, "online trainer");
        StreamNode servingWrites = node(graph, "serving writes");
        assertThat(servingWrites.getInEdges()).noneMatch(e -> e.getSourceId() == trainer.getId());
        StreamNode modelWriter = node(graph, "model versions -> Redis: Writer");
        // keyed by model: one writer puts a version's parameters, then its metadata, then :current
        assertThat(modelWriter.getInEdges()).singleElement().matches(e -> e.getSourceId() == trainer.getId())
                .matches(e -> e.getPartitioner() instanceof org.apache.flink.streaming.runtime.partitioner.KeyGroupStreamPartitioner);
        // and not in the trainer's task, which would wait at every checkpoint for Redis to take its last version
        JobGraph job = graph.getJobGraph();
        assertThat(vertex(job, "model versions -> Redis: Writer").getName()).doesNotContain("online trainer");
    }

    @Test
    void theTrainerOfTheJobsOneModelIsOneSubtask() {
        // One model, one key: other subtasks would be idle, finish first at the end of a bounded input, and leave
        // the trainer's union state partly finished, which declines every checkpoint until the busy one finishes.
        assertThat(vertex(graph().getJobGraph(), "online trainer").getParallelism()).isEqualTo(1);
    }

    private static JobVertex vertex(JobGraph job, String namePart) {
        List<JobVertex> found = java.util.stream.StreamSupport.stream(job.getVertices().spliterator(), false)
                .filter(v -> v.getName().contains(namePart)).toList();
        assertThat(found).as("tasks named *%s*", namePart).hasSize(1);
        return found.get(0);
    }

    @Test
    void feedbackIsParkedOnTheHeapBackendAndNotOnRocksDbInTheSameGraph() {
        StreamGraph heap = graph("hashmap", "auto");
        StreamGraph rocksDb = graph("rocksdb", "auto");
        assertThat(feedbackStage(heap).detached()).isTrue();
        assertThat(feedbackStage(rocksDb).detached()).isFalse();
        assertThat(feedbackStage(graph("rocksdb", "true")).detached()).isTrue();
        assertThat(feedbackStage(graph("hashmap", "false")).detached()).isFalse();
        // the rejoin is there either way, so a restore may switch the setting
        assertThat(uids(heap)).isEqualTo(uids(rocksDb)).contains("feedback-rejoin");
        assertThatThrownBy(() -> graph("hashmap", "sometimes")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("use auto, true or false");
    }

    private static UserFeedbackFunction feedbackStage(StreamGraph graph) {
        SimpleOperatorFactory<?> factory = (SimpleOperatorFactory<?>) node(graph, "user feedback").getOperatorFactory();
        return (UserFeedbackFunction) ((AbstractUdfStreamOperator<?, ?>) factory.getOperator()).getUserFunction();
    }

    private static java.util.Set<String> uids(StreamGraph graph) {
        return graph.getStreamNodes().stream().map(StreamNode::getTransformationUID)
                .filter(java.util.Objects::nonNull).collect(Collectors.toSet());
    }

    private static StreamGraph graph() {
        return graph("hashmap", "auto");
    }

    private static StreamGraph graph(String stateBackend, String parkFeedback) {
        CtrConfig config = CtrConfig.load(null, Map.of("ctr.attribution.park-feedback", parkFeedback));
        Configuration flink = new Configuration();
        flink.set(StateBackendOptions.STATE_BACKEND, stateBackend);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(2);
        ConfiguredJobIO io = new ConfiguredJobIO(config, false);
        CtrRankingJob.define(env, config, io, io);
        return env.getStreamGraph();
    }

    private static StreamNode node(StreamGraph graph, String namePart) {
        List<StreamNode> found = graph.getStreamNodes().stream()
                .filter(n -> n.getOperatorName().contains(namePart)).toList();
        assertThat(found).as("nodes named *%s*", namePart).hasSize(1);
        return found.get(0);
    }
}
