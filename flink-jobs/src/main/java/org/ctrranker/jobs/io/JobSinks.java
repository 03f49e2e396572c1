package org.ctrranker.jobs.io;

import org.apache.flink.api.connector.sink2.Sink;
import org.ctrranker.events.CtrScore;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.TrainingSample;
import org.ctrranker.operators.redis.VersionedWrite;
import org.ctrranker.operators.scoring.ModelUpdate;

/** The job's outputs. */
public interface JobSinks {

    Sink<TrainingSample> trainingSamples();

    Sink<DeadLetter> deadLetters();

    /** One record per scored candidate, exactly-once. */
    Sink<CtrScore> scores();

    /** Versioned, replay-safe writes of the serving state (user feedback, market statistics, rankings, scores, models). */
    Sink<VersionedWrite> redis();

    /** The trainer's versions, live or rejected, into the serving contract's {@code ctr:model:*} keys. */
    Sink<ModelUpdate> modelVersions();
}
