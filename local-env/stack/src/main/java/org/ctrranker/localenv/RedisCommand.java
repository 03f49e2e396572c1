package org.ctrranker.localenv;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** One command to a local redis-server over its own socket, for setting up and inspecting test servers. */
final class RedisCommand {

    private RedisCommand() {}

    /**
     * {@code arguments} to the server on loopback {@code port}, its reply as text: a status or error line, a bulk
     * string, an integer, or an array of bulk strings one per line. A reply that is an error throws.
     */
    static String send(int port, String... arguments) {
        return sendAuthenticated(port, null, arguments);
    }

    /** As {@link #send(int, String...)}, authenticated first with {@code password} unless it is null. */
    static String sendAuthenticated(int port, String password, String... arguments) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            if (password != null) {
                out.write(request("AUTH", password));
                out.flush();
                String reply = line(in);
                if (!reply.startsWith("+")) {
                    throw new IllegalStateException("redis-server on port " + port + " refused AUTH: " + reply);
                }
            }
            out.write(request(arguments));
            out.flush();
            String line = line(in);
            return switch (line.charAt(0)) {
                case '+', ':' -> line.substring(1);
                case '$' -> bulk(in, line);
                case '*' -> {
                    List<String> elements = new ArrayList<>();
                    for (int n = Integer.parseInt(line.substring(1)); n > 0; n--) {
                        elements.add(bulk(in, line(in)));
                    }
                    yield String.join("\n", elements);
                }
                case '-' -> throw new IllegalStateException("redis-server on port " + port + ": "
                        + String.join(" ", arguments) + ": " + line.substring(1));
                default -> throw new IllegalStateException("unexpected reply to " + arguments[0] + ": " + line);
            };
        } catch (IOException e) {
            throw new UncheckedIOException("talking to redis-server on port " + port, e);
        }
    }

    private static byte[] request(String... arguments) {
        StringBuilder request = new StringBuilder("*").append(arguments.length).append("\r\n");
        for (String argument : arguments) {
            byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
            request.append('$').append(bytes.length).append("\r\n").append(argument).append("\r\n");
        }
        return request.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String bulk(InputStream in, String header) throws IOException {
        int length = Integer.parseInt(header.substring(1));
        return length < 0 ? null : new String(in.readNBytes(length + 2), StandardCharsets.UTF_8).substring(0, length);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c < 0) {
                throw new IOException("redis-server closed the connection");
            }
            line.append((char) c);
        }
        in.read(); // '\n'
        return line.toString();
    }
}
