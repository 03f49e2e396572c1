package org.ctrranker.operators.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * A writer's connections: one to a standalone server or to the primary the Sentinels name, or one to each primary of a
 * Redis Cluster with the cluster's slot map (and the slots a reshard is migrating), so that a pipeline can carry every
 * key one primary holds. Loaded on first use; {@link #reset} after a redirection (a slot moved), a failover or a broken connection makes the next use load
 * them again. One thread uses it.
 */
public final class RedisNodes implements AutoCloseable {

    private static final int SLOTS = 16384;

    private final RedisEndpoint endpoint;
    private final Map<HostAndPort, Jedis> connections = new HashMap<>();
    /** Cluster only: the primary holding each slot; null until loaded. */
    private HostAndPort[] primaries;
    /**
     * Cluster only, loaded with {@link #primaries}: for each slot a primary is migrating away, the primary importing
     * it; null for the others.
     */
    private HostAndPort[] importers;
    private boolean anyImporter;
    /** Otherwise: the server, or the primary the Sentinels named; null until loaded. */
    private HostAndPort server;

    public RedisNodes(RedisEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    /** {@code items} grouped by the connection to the node holding their key, each group in the items' order. */
    public <T> Map<Jedis, List<T>> byNode(List<T> items, Function<T, String> key) {
        Map<Jedis, List<T>> groups = new LinkedHashMap<>();
        if (!endpoint.cluster()) {
            if (!items.isEmpty()) {
                groups.put(server(), items);
            }
            return groups;
        }
        for (T item : items) {
            groups.computeIfAbsent(forKey(key.apply(item)), node -> new ArrayList<>()).add(item);
        }
        return groups;
    }

    /** The connection to the node holding {@code key}. */
    public Jedis forKey(String key) {
        if (!endpoint.cluster()) {
            return server();
        }
        if (primaries == null) {
            primaries = loadSlots();
        }
        HostAndPort node = primaries[JedisClusterCRC16.getSlot(key)];
        if (node == null) {
            throw new IllegalStateException("no primary of the Redis Cluster at " + endpoint + " serves slot "
                    + JedisClusterCRC16.getSlot(key) + " (of key " + key + "): check CLUSTER SLOTS");
        }
        return connection(node);
    }

    /**
     * Cluster only: the connection to the primary importing {@code key}'s slot while a reshard migrates it away from
     * the primary {@link #forKey} names, or null when the slot is not migrating (as of the slot map's loading). Such a
     * slot's keys stay on their primary until moved; a key not there yet is written on the importing primary, after
     * ASKING.
     */
    public Jedis importingForKey(String key) {
        if (primaries == null) {
            forKey(key);
        }
        HostAndPort importer = importers[JedisClusterCRC16.getSlot(key)];
        return importer == null ? null : connection(importer);
    }

    /** Cluster only: whether any slot was migrating when the slot map was loaded. */
    public boolean anySlotMigrating() {
        if (primaries == null) {
            primaries = loadSlots();
        }
        return anyImporter;
    }

    /** Forgets the slot map or the primary and closes every connection. */
    public void reset() {
        primaries = null;
        importers = null;
        server = null;
        for (Jedis connection : connections.values()) {
            try {
                connection.close();
            } catch (RuntimeException ignored) {
                // broken already; nothing more to release
            }
        }
        connections.clear();
    }

    @Override
    public void close() {
        reset();
    }

    private Jedis server() {
        if (server == null) {
            server = endpoint.node();
        }
        return connection(server);
    }

    private Jedis connection(HostAndPort node) {
        return connections.computeIfAbsent(node, endpoint::connect);
    }

    /** CLUSTER SLOTS from the named node: each entry is [first slot, last slot, [primary host, port, id], replicas...]. */
    private HostAndPort[] loadSlots() {
        HostAndPort[] owners = new HostAndPort[SLOTS];
        for (Object entry : connection(new HostAndPort(endpoint.host(), endpoint.port())).clusterSlots()) {
            List<?> range = (List<?>) entry;
            List<?> primary = (List<?>) range.get(2);
            String host = text(primary.get(0));
            // an empty host: the node does not know its address, and the one the endpoint names is meant
            HostAndPort node = new HostAndPort(host.isEmpty() ? endpoint.host() : host, ((Long) primary.get(1)).intValue());
            for (int slot = ((Long) range.get(0)).intValue(); slot <= ((Long) range.get(1)).intValue(); slot++) {
                owners[slot] = node;
            }
        }
        importers = loadImporters(owners);
        return owners;
    }

    /**
     * Each primary's own CLUSTER NODES: only a node's own line shows the slots it is migrating away, as
     * {@code [slot->-<id of the importing node>]}; the other lines give each id's address.
     */
    private HostAndPort[] loadImporters(HostAndPort[] owners) {
        HostAndPort[] importing = new HostAndPort[SLOTS];
        anyImporter = false;
        for (HostAndPort primary : new LinkedHashSet<>(Arrays.asList(owners))) {
            if (primary == null) {
                continue;
            }
            Map<String, HostAndPort> addresses = new HashMap<>();
            List<String[]> migrations = new ArrayList<>();
            for (String line : connection(primary).clusterNodes().split("\n")) {
                String[] fields = line.trim().split(" ");
                if (fields.length < 8) {
                    continue;
                }
                String address = fields[1].split("[@,]")[0];
                int colon = address.lastIndexOf(':');
                String host = address.substring(0, colon);
                addresses.put(fields[0], new HostAndPort(host.isEmpty() ? endpoint.host() : host,
                        Integer.parseInt(address.substring(colon + 1))));
                if (fields[2].contains("myself")) {
                    for (int i = 8; i < fields.length; i++) {
                        if (fields[i].startsWith("[") && fields[i].contains("->-")) {
                            migrations.add(fields[i].substring(1, fields[i].length() - 1).split("->-"));
                        }
                    }
                }
            }
            for (String[] migration : migrations) {
                importing[Integer.parseInt(migration[0])] = addresses.get(migration[1]);
                anyImporter = true;
            }
        }
        return importing;
    }

    private static String text(Object value) {
        return value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(value);
    }
}
