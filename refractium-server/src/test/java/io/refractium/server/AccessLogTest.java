package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/** The access log line of each connection, in both formats, and the connection id in the MDC of engine lines. */
@Timeout(30)
class AccessLogTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger access = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
    private final Logger engine = (Logger) LoggerFactory.getLogger("io.refractium.internal");
    private Level engineLevel;

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        root.detachAppender(events);
        access.detachAppender(events);
        engine.setLevel(engineLevel);
        events.stop();
    }

    private Server start(String accessLog, String backend) {
        events.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        events.start();
        root.addAppender(events);
        access.addAppender(events);
        engineLevel = engine.getLevel();
        engine.setLevel(Level.DEBUG);
        FlagConfig.Flags f = new FlagConfig.Flags();
        f.listen = List.of("127.0.0.1:0");
        f.route = List.of("http=" + backend);
        f.accessLog = accessLog;
        Server s = new Server(null, ServerConfig.from(FlagConfig.toTree(f)), null).start();
        closeables.add(s);
        return s;
    }

    private static void oneRequest(InetSocketAddress address) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /x HTTP/1.0\r\nHost: a.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("a");
        }
    }

    private List<ILoggingEvent> accessLines() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            List<ILoggingEvent> lines = new ArrayList<>();
            for (ILoggingEvent e : List.copyOf(events.list)) {
                if (e.getLoggerName().equals(AccessLog.LOGGER)) {
                    lines.add(e);
                }
            }
            if (!lines.isEmpty()) {
                return lines;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no access log line");
    }

    @Test
    void oneTextLinePerConnectionAndTheIdInTheMdcOfEngineLines() throws Exception {
        try (TestServer backend = TestServer.greeter("a")) {
            Server server = start(null, backend.hostAndPort());
            oneRequest(server.refractium().localAddress());
            ILoggingEvent line = accessLines().get(0);
            String text = line.getFormattedMessage();
            assertThat(text).matches("\\[\\d+] time=\\S+ conn=\\d+ client=127\\.0\\.0\\.1:\\d+ listener=127\\.0\\.0\\.1:\\d+ "
                    + "protocol=http attrs=\"[^\"]*http\\.host=a\\.example[^\"]*\" target=http backend="
                    + backend.hostAndPort() + " in=\\d+ out=\\d+ duration_ms=\\d+ reason=\\w+");
            String id = text.substring(text.indexOf("conn=") + 5, text.indexOf(" client="));
            assertThat(line.getMDCPropertyMap()).containsEntry(ConnectionIdMdc.KEY, id);
            List<ILoggingEvent> engineLines = new ArrayList<>();
            for (ILoggingEvent e : List.copyOf(events.list)) {
                if (e.getLoggerName().startsWith("io.refractium.internal") && e.getMessage().startsWith("[{}]")) {
                    engineLines.add(e);
                }
            }
            assertThat(engineLines).isNotEmpty().allSatisfy(e -> assertThat(e.getMDCPropertyMap())
                    .containsEntry(ConnectionIdMdc.KEY, String.valueOf(e.getArgumentArray()[0])));
            for (ILoggingEvent e : List.copyOf(events.list)) {
                if (!e.getMessage().startsWith("[{}]")) {
                    assertThat(e.getMDCPropertyMap()).doesNotContainKey(ConnectionIdMdc.KEY);
                }
            }
        }
    }

    @Test
    void jsonLines() throws Exception {
        try (TestServer backend = TestServer.greeter("a")) {
            Server server = start("json", backend.hostAndPort());
            oneRequest(server.refractium().localAddress());
            String text = accessLines().get(0).getFormattedMessage();
            assertThat(text).matches("\\[\\d+] \\{\"time\":\"[^\"]+\",\"conn\":\\d+,\"client\":\"127\\.0\\.0\\.1:\\d+\","
                    + "\"listener\":\"127\\.0\\.0\\.1:\\d+\",\"protocol\":\"http\",\"attributes\":\\{.*\"http\\.host\":"
                    + "\"a\\.example\".*},\"target\":\"http\",\"backend\":\"" + backend.hostAndPort().replace(".", "\\.")
                    + "\",\"bytes_in\":\\d+,\"bytes_out\":\\d+,\"duration_ms\":\\d+,\"reason\":\"\\w+\",\"detail\":null}");
        }
    }

    @Test
    void offMeansNoLine() throws Exception {
        try (TestServer backend = TestServer.greeter("a")) {
            Server server = start("off", backend.hostAndPort());
            oneRequest(server.refractium().localAddress());
            // The line is written when the connection closes, which may come after the client has read everything;
            // a connection leaves the open count once its end is reported.
            awaitTrue(() -> server.refractium().activeConnections() == 0);
            server.accessLog().settings(AccessLog.Settings.DEFAULT);
            oneRequest(server.refractium().localAddress());
            awaitTrue(() -> server.refractium().activeConnections() == 0);
            assertThat(accessLines()).hasSize(1);
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached within 10 s");
            }
            Thread.sleep(5);
        }
    }
}
