package org.ctrranker.jobs.cli;

import java.io.IOException;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.runtime.state.StateBackendLoader;
import org.apache.flink.util.DynamicCodeLoadingException;

/**
 * The {@code --flink KEY=VALUE} options of a command that starts the job in a mini cluster, checked before anything
 * starts: a state backend Flink cannot load fails the command in one line, not minutes later in the job.
 */
public final class FlinkOptions {

    private FlinkOptions() {}

    public static Configuration parse(Map<String, String> options) {
        Configuration flink = Configuration.fromMap(options);
        try {
            StateBackendLoader.loadStateBackendFromConfig(flink, FlinkOptions.class.getClassLoader(), null);
        } catch (IllegalArgumentException | IllegalConfigurationException | DynamicCodeLoadingException
                | IOException e) {
            throw new CommandFailure("--flink: " + e.getMessage() + " (state.backend.type: hashmap or rocksdb)");
        }
        return flink;
    }
}
