package org.ctrranker.localenv;

/** Where the running stack's services listen. */
public record StackEndpoints(String kafkaBootstrap, String redisHost, int redisPort) {

    public String redisUrl() {
        return "redis://" + redisHost + ":" + redisPort;
    }

    /** The two lines {@code bin/ctr stack up} prints, also the format of the state file. */
    public String asEnvLines() {
        return "KAFKA_BOOTSTRAP=" + kafkaBootstrap + "\nREDIS_URL=" + redisUrl() + "\n";
    }
}
