package org.ctrranker.localenv;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** Waits until a started service answers its own protocol, failing fast if its process died. */
final class Readiness {

    private Readiness() {}

    static void awaitRedis(String host, int port, ManagedProcess process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            process.checkAlive();
            if (redisPing(host, port)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server did not answer PING on " + host + ":" + port
                        + " within " + timeout.toSeconds() + " s; log:\n" + process.logTail(20));
            }
            sleep(20);
        }
    }

    static boolean redisPing(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = new byte[7];
            int read = in.readNBytes(reply, 0, 7);
            return read == 7 && new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }

    static void awaitKafka(String bootstrap, ManagedProcess process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        while (true) {
            process.checkAlive();
            if (kafkaAnswers(props)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Kafka broker did not come up on " + bootstrap + " within "
                        + timeout.toSeconds() + " s; log:\n" + process.logTail(30));
            }
            sleep(100);
        }
    }

    static boolean kafkaAnswers(Properties props) {
        String[] hostPort = props.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG).split(":");
        if (!accepts(hostPort[0], Integer.parseInt(hostPort[1]))) {
            return false;
        }
        try (Admin admin = Admin.create(props)) {
            return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean accepts(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the stack", e);
        }
    }
}
