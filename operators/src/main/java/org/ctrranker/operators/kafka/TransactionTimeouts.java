package org.ctrranker.operators.kafka;

import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;

/**
 * An exactly-once sink whose transaction timeout exceeds the broker's {@code transaction.max.timeout.ms}
 * fails only at its first checkpoint; this check fails the job at submission with the fix instead.
 */
public final class TransactionTimeouts {

    private TransactionTimeouts() {}

    public static void requireWithinBrokerMaximum(String bootstrapServers, long transactionTimeoutMs, String settingName) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(props)) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            for (Node node : nodes) {
                ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, node.idString());
                Config config = admin.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
                ConfigEntry max = config.get("transaction.max.timeout.ms");
                if (max != null && max.value() != null && transactionTimeoutMs > Long.parseLong(max.value())) {
                    throw new IllegalArgumentException(settingName + "=" + transactionTimeoutMs
                            + " exceeds broker " + node.idString() + "'s transaction.max.timeout.ms=" + max.value()
                            + ": lower " + settingName + " or raise the broker's maximum");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking Kafka's transaction timeout", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot read the brokers' transaction.max.timeout.ms from " + bootstrapServers
                    + ": " + e.getMessage(), e);
        }
    }
}
