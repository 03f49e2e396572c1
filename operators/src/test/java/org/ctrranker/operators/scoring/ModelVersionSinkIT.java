package org.ctrranker.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.ctrranker.localenv.LocalRedisCluster;
import org.ctrranker.localenv.LocalRedisSentinel;
import org.ctrranker.localenv.LocalStackExtension;
import org.ctrranker.localenv.StackEndpoints;
import org.ctrranker.models.CtrModel;
import org.ctrranker.operators.redis.RedisEndpoint;
import org.ctrranker.operators.redis.RedisKeys;
import org.ctrranker.operators.redis.RedisKeyspace;
import org.ctrranker.operators.redis.VersionedRedisWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisClusterCRC16;

/** Model versions into a real redis-server: parameters in slices under their own key, then the metadata. */
@ExtendWith(LocalStackExtension.class)
class ModelVersionSinkIT {

    private static final String PREFIX = "model-sink-it";
    private static final OnlineConfig CONFIG = OnlineTrainerTest.config(Map.of(
            "ctr.redis.key-prefix", PREFIX, "ctr.training.model-redis-ttl-ms", "600000",
            // an untrained model's snapshot is its dense layers (the table's and the wide part's changed rows are none):
            // about 0.9 MB with these, several slices
            "ctr.model.hash-buckets", "65536", "ctr.model.hidden-layers", "512,256"));

    private final RedisEndpoint redis;

    ModelVersionSinkIT(StackEndpoints stack) {
        this.redis = RedisEndpoint.parse(stack.redisUrl());
    }

    @BeforeEach
    void clean() {
        try (UnifiedJedis jedis = redis.client()) {
            RedisKeyspace.deleteAll(jedis, PREFIX + ":*");
        }
    }

    @Test
    void aVersionsParametersArriveWholeInSlicesAndRestoreTheModel() throws Exception {
        ModelUpdate live = update(1, true, modelParameters());
        try (UnifiedJedis jedis = redis.client()) {
            write(live);
            String key = RedisKeys.modelParameters(PREFIX, "ctr", 1);
            int slices = ModelVersionSink.Writer.slices(live.parameters.length);
            assertThat(slices).as("the test model spans several slices").isGreaterThan(1);
            assertThat(jedis.hlen(key)).isEqualTo(slices);
            for (int i = 0; i < slices; i++) {
                assertThat(jedis.hstrlen(key, Integer.toString(i))).as("slice %d", i)
                        .isEqualTo(Math.min(ModelVersionSink.SLICE_BYTES, live.parameters.length - (long) i * ModelVersionSink.SLICE_BYTES));
            }

            byte[] stored = ServingReader.parameters(jedis, PREFIX, "ctr", 1).orElseThrow();
            assertThat(stored).isEqualTo(live.parameters);
            try (CtrModel restored = CtrModel.create(CONFIG.modelConfig())) {
                restored.restore(stored);
                assertThat(restored.snapshot()).isEqualTo(live.parameters);
            }
            assertThat(jedis.pttl(RedisKeys.modelParameters(PREFIX, "ctr", 1))).isBetween(1L, 600_000L);
            Map<String, String> version = jedis.hgetAll(RedisKeys.modelVersion(PREFIX, "ctr", 1));
            assertThat(version).containsEntry("status", "live")
                    .containsEntry("parameters_bytes", Integer.toString(live.parameters.length))
                    .doesNotContainKey("parameters");
            assertThat(jedis.hget(RedisKeys.modelCurrent(PREFIX, "ctr"), "version")).isEqualTo("1");
        }
    }

    @Test
    void aVersionPublishedToARedisClusterReadsBackWhole(@TempDir Path dir) throws Exception {
        ModelUpdate live = update(1, true, modelParameters());
        try (LocalRedisCluster cluster = LocalRedisCluster.start(dir, 3)) {
            RedisEndpoint endpoint = RedisEndpoint.parse(cluster.url());
            write(endpoint, live);
            try (UnifiedJedis jedis = endpoint.client()) {
                assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 1)).contains(live.parameters);
                assertThat(ServingReader.liveModel(jedis, PREFIX, "ctr")).hasValueSatisfying(
                        current -> assertThat(current.version()).isEqualTo(1));
                assertThat(ServingReader.versions(jedis, PREFIX, "ctr")).extracting(ServingReader.ModelVersion::version)
                        .containsExactly(1L);
            }

            // the model's slot migrates to another primary while the next version is written: it waits for the move
            int slot = JedisClusterCRC16.getSlot(RedisKeys.modelParameters(PREFIX, "ctr", 2));
            int from = cluster.primaryOf(slot);
            int to = (from + 1) % 3;
            long moveMs = 3_000;
            cluster.beginSlotMove(slot, from, to);
            long start = System.nanoTime();
            Thread moveEnds = cluster.endSlotMoveAfter(moveMs, slot, from, to);
            ModelUpdate next = update(2, true, modelParameters());
            write(endpoint, next);
            moveEnds.join();
            assertThat((System.nanoTime() - start) / 1_000_000).as("the write waited for the move").isGreaterThanOrEqualTo(moveMs);
            try (UnifiedJedis jedis = endpoint.client()) {
                assertThat(cluster.command(to, "EXISTS", RedisKeys.modelParameters(PREFIX, "ctr", 2))).isEqualTo("1");
                assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 2)).contains(next.parameters);
                assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 1)).contains(live.parameters);
                assertThat(ServingReader.liveModel(jedis, PREFIX, "ctr")).hasValueSatisfying(
                        current -> assertThat(current.version()).isEqualTo(2));
            }
        }
    }

    @Test
    void aVersionWrittenWhileSentinelsPromoteTheReplicaLandsOnTheNewPrimary(@TempDir Path dir) throws Exception {
        ModelUpdate live = update(1, true, modelParameters());
        try (LocalRedisSentinel servers = LocalRedisSentinel.start(dir, "model-secret")) {
            RedisEndpoint endpoint = RedisEndpoint.parse(servers.url());
            write(endpoint, live);
            int oldPrimary = servers.primaryPort();
            assertThat(servers.command(oldPrimary, "WAIT", "1", "5000")).as("replicas that have version 1").isEqualTo("1");

            servers.stop(oldPrimary);
            ModelUpdate next = update(2, true, modelParameters());
            write(endpoint, next);
            assertThat(servers.primaryPort()).isEqualTo(servers.otherPort(oldPrimary));
            try (UnifiedJedis jedis = endpoint.client()) {
                assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 1)).contains(live.parameters);
                assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 2)).contains(next.parameters);
                assertThat(ServingReader.liveModel(jedis, PREFIX, "ctr")).hasValueSatisfying(
                        current -> assertThat(current.version()).isEqualTo(2));
            }
        }
    }

    @Test
    void aReplayedVersionChangesNothingAndARejectedOneNeverMovesCurrent() throws Exception {
        byte[] parameters = modelParameters();
        ModelUpdate first = update(1, true, parameters);
        write(first);
        try (UnifiedJedis jedis = redis.client()) {
            Map<String, Map<String, String>> before = RedisKeyspace.hashesAll(jedis, PREFIX + ":*");
            write(first);
            assertThat(RedisKeyspace.hashesAll(jedis, PREFIX + ":*")).as("replayed").isEqualTo(before);

            byte[] other = parameters.clone();
            other[other.length / 2] ^= 1;
            write(update(2, false, other));
            assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 2)).contains(other);
            assertThat(jedis.hget(RedisKeys.modelVersion(PREFIX, "ctr", 2), "status")).isEqualTo("rejected");
            assertThat(jedis.hget(RedisKeys.modelCurrent(PREFIX, "ctr"), "version")).isEqualTo("1");
            assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 1)).contains(parameters);

            // Fewer slices under the same name and number (another model's) replace the old ones, not overlay them.
            byte[] shorter = java.util.Arrays.copyOf(parameters, parameters.length / 3);
            write(update(3, false, parameters));
            write(update(3, false, shorter));
            assertThat(ServingReader.parameters(jedis, PREFIX, "ctr", 3)).contains(shorter);
        }
    }

    private void write(ModelUpdate update) throws Exception {
        write(redis, update);
    }

    private static void write(RedisEndpoint redis, ModelUpdate update) throws Exception {
        ModelVersionSink.Writer writer = new ModelVersionSink.Writer(redis, CONFIG, new VersionedRedisWriter(redis, 16, null));
        try {
            writer.write(update, null);
            writer.flush(false);
        } finally {
            writer.close();
        }
    }

    private static byte[] modelParameters() {
        try (CtrModel model = CtrModel.create(CONFIG.modelConfig())) {
            return model.snapshot();
        }
    }

    private static ModelUpdate update(long version, boolean live, byte[] parameters) {
        ModelUpdate u = new ModelUpdate();
        u.modelName = "ctr";
        u.version = version;
        u.live = live;
        u.liveVersion = live ? version : version - 1;
        u.gateReason = live ? "passed" : "rejected";
        u.parameters = parameters;
        u.eventTimeMs = 1_000L * version;
        return u;
    }
}
