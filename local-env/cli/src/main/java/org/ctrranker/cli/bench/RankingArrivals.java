package org.ctrranker.cli.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.ctrranker.operators.redis.RedisEndpoint;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;

/**
 * When each ranking became readable in Redis: a subscriber to Redis keyspace notifications of hash
 * writes on {@code <prefix>:rank:*} (this bench's private redis-server: no password, no TLS), stamping the first write of each key with the local clock (the
 * same clock the load generator stamps its sends with).
 */
final class RankingArrivals implements AutoCloseable {

    private final Map<String, Long> firstSeenMs = new ConcurrentHashMap<>();
    private final Jedis subscriber;
    private final JedisPubSub listener;
    private final Thread thread;
    private final String channelPrefix;
    private volatile boolean closing;

    RankingArrivals(RedisEndpoint endpoint, String keyPrefix) throws InterruptedException {
        try (Jedis admin = endpoint.connect()) {
            // K: keyspace channel, h: hash commands (the versioned writer's HSET after its DEL).
            admin.configSet("notify-keyspace-events", "Kh");
        }
        this.channelPrefix = "__keyspace@" + endpoint.database() + "__:";
        // A subscriber waits on its socket between messages: no read timeout (connect() has 10 s).
        this.subscriber = new Jedis(new HostAndPort(endpoint.host(), endpoint.port()),
                DefaultJedisClientConfig.builder().database(endpoint.database()).timeoutMillis(0)
                        .autoNegotiateProtocol(false).build());
        java.util.concurrent.CountDownLatch subscribed = new java.util.concurrent.CountDownLatch(1);
        this.listener = new JedisPubSub() {
            @Override
            public void onPMessage(String pattern, String channel, String message) {
                long now = System.currentTimeMillis();
                firstSeenMs.putIfAbsent(channel.substring(channelPrefix.length()), now);
            }

            @Override
            public void onPSubscribe(String pattern, int subscribedChannels) {
                subscribed.countDown();
            }
        };
        String pattern = channelPrefix + keyPrefix + ":rank:*";
        this.thread = new Thread(() -> {
            try {
                subscriber.psubscribe(listener, pattern);
            } catch (RuntimeException e) {
                if (!closing) {
                    System.err.println("ranking arrivals: subscription ended: " + e);
                }
            }
        }, "ctr-bench-ranking-arrivals");
        thread.setDaemon(true);
        thread.start();
        subscribed.await(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Local time at which {@code key} was first written, or null. */
    Long firstSeenMs(String key) {
        return firstSeenMs.get(key);
    }

    @Override
    public void close() {
        closing = true;
        try {
            listener.punsubscribe();
        } catch (RuntimeException e) {
            // already gone
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        subscriber.close();
    }
}
