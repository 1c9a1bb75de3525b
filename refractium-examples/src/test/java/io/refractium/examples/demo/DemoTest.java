package io.refractium.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class DemoTest {

    private final List<String> log = new CopyOnWriteArrayList<>();
    /** Bound but not listening: holds a port nothing accepts on, so no backend the demo starts can take it. */
    private final List<Socket> reserved = new CopyOnWriteArrayList<>();
    private Demo demo;

    @BeforeEach
    void start() throws IOException {
        demo = Demo.start(0, closedLoopbackPort(), ThrowawayDetectors.all(), log::add);
    }

    @AfterEach
    void close() throws IOException {
        if (demo != null) {
            demo.close();
        }
        for (Socket s : reserved) {
            s.close();
        }
    }

    /**
     * Returns a loopback address where nothing listens, for as long as the test runs. A port merely closed again
     * could be handed to one of the demo's own backends, which the demo would then take for an sshd.
     */
    private InetSocketAddress closedLoopbackPort() throws IOException {
        Socket s = new Socket();
        reserved.add(s);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return (InetSocketAddress) s.getLocalSocketAddress();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(demo.address(), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private void awaitLog(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (log.stream().noneMatch(l -> l.contains(fragment))) {
            assertThat(System.nanoTime()).as("a log line containing %s in %s", fragment, log).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void httpGoesToTheHttpBackendWhichSeesTheHost() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: demo.test:8443\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String response = readAll(s.getInputStream());
            assertThat(response).startsWith("HTTP/1.1 200 OK\r\n")
                    .endsWith("\r\n\r\nhello from the http backend (Host: demo.test:8443)\n");
        }
        awaitLog("http http.host=demo.test -> ");
        assertThat(log).anyMatch(l -> l.matches("#\\d+ 127\\.0\\.0\\.1:\\d+ http http\\.host=demo\\.test -> "
                + "127\\.0\\.0\\.1:\\d+: \\d+ B in, \\d+ B out, \\d+ ms, COMPLETED"));
    }

    @Test
    void httpKeepAliveAnswersEveryRequest() throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            for (int i = 0; i < 3; i++) {
                out.write(("POST /x HTTP/1.1\r\nHost: k" + i + "\r\nContent-Length: 3\r\n\r\nabc")
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
                String line;
                while (!(line = in.readLine()).isEmpty()) {
                    assertThat(line).doesNotStartWith("Connection: close");
                }
                assertThat(in.readLine()).isEqualTo("hello from the http backend (Host: k" + i + ")");
            }
        }
    }

    @Test
    void tlsIsRoutedBySni() throws Exception {
        for (String name : List.of("a.test", "b.test")) {
            try (SSLSocket tls = tlsTo(name)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("hello from " + name);
                X509Certificate cert = (X509Certificate) tls.getSession().getPeerCertificates()[0];
                assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=" + name);
                tls.getOutputStream().write("hi\n".getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                assertThat(in.readLine()).isEqualTo("hello from " + name);
            }
            awaitLog("tls tls.sni=" + name + " -> ");
        }
    }

    private SSLSocket tlsTo(String serverName) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new TrustEverything()}, null);
        Socket plain = connect();
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, serverName, demo.address().getPort(),
                true);
        SSLParameters params = tls.getSSLParameters();
        params.setServerNames(List.of(new SNIHostName(serverName)));
        tls.setSSLParameters(params);
        tls.startHandshake();
        return tls;
    }

    @Test
    void unknownBytesGoToTheEchoFallback() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertThat(readAll(s.getInputStream())).isEqualTo("hello\n");
        }
        awaitLog("no protocol (NO_MATCH) -> ");
        assertThat(log).anyMatch(l -> l.contains("no protocol (NO_MATCH)") && l.contains(": 6 B in, 6 B out, "));
    }

    @Test
    void anSshClientGetsTheBannerServerWhenNoSshdListens() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write("SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII));
            String banner = readAll(s.getInputStream());
            assertThat(banner).contains("stand-in SSH server").endsWith("\r\nSSH-2.0-RefractiumDemo\r\n");
        }
        awaitLog(" ssh -> ");
    }

    @Test
    void aSilentClientGoesToTheSshBackend() throws Exception {
        try (Socket s = connect()) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            do {
                line = in.readLine();
                assertThat(line).isNotNull();
            } while (!line.equals("SSH-2.0-RefractiumDemo"));
        }
        awaitLog("no protocol (SILENCE) -> ");
    }

    @Test
    void theInstructionsNameThePortAndTheCommands() {
        int port = demo.address().getPort();
        assertThat(demo.instructions()).contains(
                "curl -v http://127.0.0.1:" + port + "/",
                "openssl s_client -connect 127.0.0.1:" + port + " -servername a.test",
                "openssl s_client -connect 127.0.0.1:" + port + " -servername b.test",
                "ssh -p " + port + " localhost",
                "printf 'hello\\n' | nc 127.0.0.1 " + port,
                "a banner server (nothing listens on 127.0.0.1:22)");
        assertThat(demo.refractium().routes().silenceTarget().name()).isEqualTo("ssh");
        assertThat(demo.refractium().routes().fallback().name()).isEqualTo("echo");
    }

    @Test
    void aTakenPreferredPortFallsBackToAFreeOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Demo other = Demo.start(taken.getLocalPort(), closedLoopbackPort(), ThrowawayDetectors.all(), log::add)) {
            assertThat(other.address().getPort()).isNotEqualTo(taken.getLocalPort()).isPositive();
            assertThat(other.refractium().isRunning()).isTrue();
        }
    }

    @Test
    void aLocalSshServerIsUsedWhenItAccepts() throws Exception {
        try (ServerSocket sshd = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Demo other = Demo.start(0, (InetSocketAddress) sshd.getLocalSocketAddress(), ThrowawayDetectors.all(),
                     log::add)) {
            assertThat(other.refractium().routes().silenceTarget().backends().get(0).port())
                    .isEqualTo(sshd.getLocalPort());
            assertThat(other.instructions()).contains("your SSH server");
        }
    }

    @Test
    void closeStopsTheBackendsToo() throws Exception {
        InetSocketAddress echo = demo.refractium().routes().fallback().backends().get(0).address();
        demo.close();
        assertThat(demo.refractium().isRunning()).isFalse();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(echo.getHostString(), echo.getPort()), 2000);
            s.setSoTimeout(2000);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        } catch (IOException expected) {
            assertThat(expected).isNotInstanceOf(SocketTimeoutException.class);
        }
        demo = null;
    }

    private static final class TrustEverything implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
