package org.ctrranker.jobs.io;

import org.apache.flink.api.connector.sink2.Sink;
import org.ctrranker.events.DeadLetter;
import org.ctrranker.events.TrainingSample;

/** The job's outputs. */
public interface JobSinks {

    Sink<TrainingSample> trainingSamples();

    Sink<DeadLetter> deadLetters();
}
