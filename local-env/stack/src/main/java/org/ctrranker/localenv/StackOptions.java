package org.ctrranker.localenv;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.ctrranker.schemas.EventTopic;

/** How to start a local stack. Immutable; build with {@link #builder()}. */
public final class StackOptions {

    /** Partitions per topic by default: several, so that keyed parallelism is exercised. */
    public static final int DEFAULT_PARTITIONS = 4;

    private final Path workDir;
    private final int partitions;
    private final List<String> topics;
    private final boolean detached;

    private StackOptions(Builder builder) {
        this.workDir = Objects.requireNonNull(builder.workDir, "workDir");
        this.partitions = builder.partitions;
        this.topics = List.copyOf(builder.topics);
        this.detached = builder.detached;
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path workDir() {
        return workDir;
    }

    public int partitions() {
        return partitions;
    }

    public List<String> topics() {
        return topics;
    }

    public boolean detached() {
        return detached;
    }

    /** Defaults: the six project topics with {@value #DEFAULT_PARTITIONS} partitions, attached to this JVM. */
    public static final class Builder {
        private Path workDir;
        private int partitions = DEFAULT_PARTITIONS;
        private List<String> topics = java.util.Arrays.stream(EventTopic.values()).map(EventTopic::defaultName).toList();
        private boolean detached;

        /** Where the broker's log segments, server logs and the state file go. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        public Builder topics(List<String> topics) {
            this.topics = topics;
            return this;
        }

        /** Detached processes outlive this JVM (for {@code bin/ctr stack up}); attached ones die with it. */
        public Builder detached(boolean detached) {
            this.detached = detached;
            return this;
        }

        public StackOptions build() {
            return new StackOptions(this);
        }
    }
}
