package org.ctrranker.localenv;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** How to start a {@link FlinkProcessCluster}. Immutable; build with {@link #builder()}. */
public final class FlinkClusterOptions {

    private final Path workDir;
    private final int taskManagers;
    private final int slotsPerTaskManager;
    private final Map<String, String> configuration;

    private FlinkClusterOptions(Builder builder) {
        this.workDir = Objects.requireNonNull(builder.workDir, "workDir");
        this.taskManagers = builder.taskManagers;
        this.slotsPerTaskManager = builder.slotsPerTaskManager;
        this.configuration = Map.copyOf(builder.configuration);
        if (taskManagers < 1 || slotsPerTaskManager < 1) {
            throw new IllegalArgumentException("a Flink cluster needs at least one TaskManager with one slot, got "
                    + taskManagers + " x " + slotsPerTaskManager);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path workDir() {
        return workDir;
    }

    public int taskManagers() {
        return taskManagers;
    }

    public int slotsPerTaskManager() {
        return slotsPerTaskManager;
    }

    /** Flink settings added to (or replacing) the cluster's own in its config.yaml. */
    public Map<String, String> configuration() {
        return configuration;
    }

    /** Defaults: two TaskManagers with two slots each. */
    public static final class Builder {
        private Path workDir;
        private int taskManagers = 2;
        private int slotsPerTaskManager = 2;
        private final Map<String, String> configuration = new LinkedHashMap<>();

        /** Where config.yaml, logs, checkpoints and temporary files go. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        public Builder taskManagers(int taskManagers) {
            this.taskManagers = taskManagers;
            return this;
        }

        public Builder slotsPerTaskManager(int slots) {
            this.slotsPerTaskManager = slots;
            return this;
        }

        /** One Flink setting, e.g. {@code set("state.backend.type", "rocksdb")}. */
        public Builder set(String key, String value) {
            configuration.put(key, value);
            return this;
        }

        public FlinkClusterOptions build() {
            return new FlinkClusterOptions(this);
        }
    }
}
