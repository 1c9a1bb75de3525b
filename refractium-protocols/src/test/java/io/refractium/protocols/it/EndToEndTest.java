package io.refractium.protocols.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.pkitesting.X509Bundle;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.RefractiumBuilder;
import io.refractium.Route;
import io.refractium.protocols.Samples;
import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.http.HttpDetector;
import io.refractium.protocols.http2.Http2Detector;
import io.refractium.protocols.ssh.SshDetector;
import io.refractium.protocols.it.TestBackends.Backend;
import io.refractium.protocols.tls.TlsDetector;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real clients (the JDK's TLS socket and HTTP client, an SSH-style banner client) through a running
 * {@link Refractium} on loopback to small Netty backends that answer with their name. Every test runs on NIO and,
 * where available, on native epoll (where the relay splices).
 */
@Timeout(30)
class EndToEndTest {

    private TestBackends backends;
    private Refractium proxy;
    private HttpClient httpClient;

    @BeforeEach
    void setUp() {
        backends = new TestBackends();
    }

    @AfterEach
    void tearDown() {
        httpClient = null; // the JDK 17 client has no close(); its selector thread ends once it is unreachable
        if (proxy != null) {
            proxy.close();
        }
        backends.close();
    }

    /** Starts a proxy with every built-in detector and the given routes. */
    private InetSocketAddress startProxy(boolean epoll, UnaryOperator<RefractiumBuilder> routes) {
        assumeTrue(!epoll || Epoll.isAvailable(), "native epoll is not available");
        proxy = routes.apply(Refractium.builder()
                        .listen("127.0.0.1", 0)
                        .nativeTransport(epoll)
                        .workerThreads(2)
                        .shutdownGracePeriod(Duration.ZERO)
                        .protocols(List.of(new TlsDetector(), new HttpDetector(), new Http2Detector(),
                                new SshDetector(), new DnsDetector())))
                .build()
                .start();
        return proxy.localAddress();
    }

    /** Waits until the proxy has closed every connection: both sides ended, nothing left half-open. */
    private void assertAllConnectionsEnd() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (proxy.activeConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.activeConnections()).as("connections still open").isZero();
    }

    // ---------------------------------------------------------------- TLS

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void tlsClientsReachTheBackendOfTheirServerName(boolean epoll) throws Exception {
        TestBackends.Pki pki = TestBackends.pki();
        Backend a = backends.tls("backend-a", pki.server());
        Backend b = backends.tls("backend-b", pki.server());
        X509Bundle certificate = pki.authority();
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route(Route.builder("tls").sni("a.test").to(ForwardTarget.of("a", a.address())))
                .route(Route.builder("tls").sni("b.test").to(ForwardTarget.of("b", b.address()))));

        assertThat(tlsRequest(address, certificate, "a.test", List.of())).isEqualTo("backend-a -");
        assertThat(tlsRequest(address, certificate, "b.test", List.of())).isEqualTo("backend-b -");
        assertThat(tlsRequest(address, certificate, "A.Test", List.of())).isEqualTo("backend-a -");
        assertThat(a.received()).hasSize(2);
        assertThat(b.received()).hasSize(1);
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void tlsClientsReachTheBackendOfTheirAlpnProtocol(boolean epoll) throws Exception {
        TestBackends.Pki pki = TestBackends.pki();
        Backend h2 = backends.tls("backend-h2", pki.server());
        Backend h1 = backends.tls("backend-h1", pki.server());
        X509Bundle certificate = pki.authority();
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route(Route.builder("tls").alpn("h2").to(ForwardTarget.of("h2", h2.address())))
                .route(Route.builder("tls").alpn("http/1.1").to(ForwardTarget.of("h1", h1.address()))));

        assertThat(tlsRequest(address, certificate, "a.test", List.of("h2"))).isEqualTo("backend-h2 h2");
        assertThat(tlsRequest(address, certificate, "a.test", List.of("http/1.1"))).isEqualTo("backend-h1 http/1.1");
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void concurrentTlsClientsEachReachTheirBackend(boolean epoll) throws Exception {
        TestBackends.Pki pki = TestBackends.pki();
        Backend a = backends.tls("backend-a", pki.server());
        Backend b = backends.tls("backend-b", pki.server());
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route(Route.builder("tls").sni("a.test").to(ForwardTarget.of("a", a.address())))
                .route(Route.builder("tls").sni("b.test").to(ForwardTarget.of("b", b.address()))));

        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String name = i % 2 == 0 ? "a.test" : "b.test";
                answers.add(clients.submit(() -> name + " " + tlsRequest(address, pki.authority(), name, List.of())));
            }
            for (Future<String> answer : answers) {
                assertThat(answer.get(20, TimeUnit.SECONDS)).isIn("a.test backend-a -", "b.test backend-b -");
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(a.received()).hasSize(32);
        assertThat(b.received()).hasSize(32);
        assertAllConnectionsEnd();
    }

    /** Connects through the proxy with the JDK's TLS client and returns the line the backend sends. */
    private static String tlsRequest(InetSocketAddress proxy, X509Bundle trusted, String serverName, List<String> alpn)
            throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trusted.toTrustManager()}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(proxy.getAddress(), proxy.getPort())) {
            socket.setSoTimeout(10_000);
            SSLParameters params = socket.getSSLParameters();
            params.setServerNames(List.of(new SNIHostName(serverName)));
            if (!alpn.isEmpty()) {
                params.setApplicationProtocols(alpn.toArray(new String[0]));
            }
            socket.setSSLParameters(params);
            socket.startHandshake();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line = in.readLine();
            assertThat(socket.getApplicationProtocol()).isEqualTo(alpn.isEmpty() ? "" : alpn.get(0));
            return line;
        }
    }

    // ---------------------------------------------------------------- HTTP

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void httpClientReachesTheBackendOfItsHost(boolean epoll) throws Exception {
        Backend local = backends.http("backend-localhost");
        Backend loopback = backends.http("backend-loopback");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route(Route.builder("http").host("localhost").to(ForwardTarget.of("localhost", local.address())))
                .route(Route.builder("http").host("127.0.0.1").to(ForwardTarget.of("loopback", loopback.address()))));
        httpClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        HttpResponse<String> viaName = get("http://localhost:" + address.getPort() + "/by-name");
        assertThat(viaName.statusCode()).isEqualTo(200);
        assertThat(viaName.body()).isEqualTo("backend-localhost");
        assertThat(local.nextReceived()).startsWith("GET /by-name HTTP/1.1\r\n")
                .containsIgnoringCase("host: localhost:" + address.getPort() + "\r\n");

        HttpResponse<String> viaAddress = get("http://127.0.0.1:" + address.getPort() + "/by-address");
        assertThat(viaAddress.statusCode()).isEqualTo(200);
        assertThat(viaAddress.body()).isEqualTo("backend-loopback");
        assertThat(loopback.nextReceived()).startsWith("GET /by-address HTTP/1.1\r\n");
        assertAllConnectionsEnd();
    }

    private HttpResponse<String> get(String uri) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10)).GET().build();
        return httpClient.send(request, HttpResponse.BodyHandlers.ofString());
    }

    // ---------------------------------------------------------------- SSH

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void sshClientReachesTheSshBackend(boolean epoll) throws Exception {
        Backend ssh = backends.ssh("backend-ssh");
        Backend web = backends.http("backend-web");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route("ssh", ForwardTarget.of("ssh", ssh.address()))
                .route("http", ForwardTarget.of("web", web.address())));

        String banner = "SSH-2.0-RefractiumTest_1.0 end-to-end\r\n";
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(banner.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("SSH-2.0-backend-ssh");
        }
        assertThat(ssh.nextReceived()).isEqualTo(banner);
        assertThat(web.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    // ---------------------------------------------------------------- first bytes over several reads, other protocols

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void postQuantumHelloOverManyRecordsAndReadsIsRoutedBySniAndReplayedVerbatim(boolean epoll) throws Exception {
        Backend a = backends.recorder("backend-a");
        Backend b = backends.recorder("backend-b");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route(Route.builder("tls").sni("a.test").to(ForwardTarget.of("a", a.address())))
                .route(Route.builder("tls").sni("b.test").to(ForwardTarget.of("b", b.address()))));
        byte[] hello = Samples.records(Samples.postQuantumClientHello().handshake(), 100);

        assertThat(exchange(address, hello, 37)).isEqualTo("backend-a");
        assertThat(a.nextReceived()).isEqualTo(new String(hello, StandardCharsets.ISO_8859_1));
        assertThat(b.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void http2PriorKnowledgeAndDnsOverTcpReachTheirBackends(boolean epoll) throws Exception {
        Backend h2c = backends.recorder("backend-h2c");
        Backend dns = backends.recorder("backend-dns");
        Backend web = backends.recorder("backend-web");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route("http2", ForwardTarget.of("h2c", h2c.address()))
                .route("dns", ForwardTarget.of("dns", dns.address()))
                .route("http", ForwardTarget.of("web", web.address())));

        byte[] preface = Samples.ascii(Samples.HTTP2_PREFACE);
        assertThat(exchange(address, preface, 5)).isEqualTo("backend-h2c");
        assertThat(h2c.nextReceived()).isEqualTo(Samples.HTTP2_PREFACE);

        byte[] query = Samples.tcp(Samples.dnsQuery("example.com", 1, true));
        assertThat(exchange(address, query, 9)).isEqualTo("backend-dns");
        assertThat(dns.nextReceived()).isEqualTo(new String(query, StandardCharsets.ISO_8859_1));
        assertThat(web.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void h2cRequestsReachTheBackendOfTheirAuthority(boolean epoll) throws Exception {
        Backend api = backends.recorder("backend-api");
        Backend other = backends.recorder("backend-other");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route(Route.builder("http2").host("h2c.example.test").to(ForwardTarget.of("api", api.address())))
                .route("http2", ForwardTarget.of("other", other.address())));

        // curl --http2-prior-knowledge http://h2c.example.test:8080/api/v1/items?limit=10, Huffman-coded HEADERS
        byte[] request = Samples.h2cCurlRequest();
        assertThat(exchange(address, request, 11)).isEqualTo("backend-api");
        assertThat(api.nextReceived()).isEqualTo(new String(request, StandardCharsets.ISO_8859_1));
        assertThat(other.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void requestLineThenEndOfInputIsHttp(boolean epoll) throws Exception {
        Backend web = backends.recorder("backend-web");
        Backend fallback = backends.recorder("backend-fallback");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route("http", ForwardTarget.of("web", web.address()))
                .fallback(ForwardTarget.of("fallback", fallback.address())));

        // no end of the header section: only the client's FIN lets the HTTP detector decide
        assertThat(exchange(address, Samples.ascii("GET /partial HTTP/1.0\r\nAccept: */*\r\n"), 8))
                .isEqualTo("backend-web");
        assertThat(web.nextReceived()).isEqualTo("GET /partial HTTP/1.0\r\nAccept: */*\r\n");
        assertThat(fallback.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void unknownBytesGoToTheFallback(boolean epoll) throws Exception {
        Backend web = backends.recorder("backend-web");
        Backend fallback = backends.recorder("backend-fallback");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .route("http", ForwardTarget.of("web", web.address()))
                .fallback(ForwardTarget.of("fallback", fallback.address())));

        assertThat(exchange(address, Samples.ascii("HELLO there\r\n"), 3)).isEqualTo("backend-fallback");
        assertThat(fallback.nextReceived()).isEqualTo("HELLO there\r\n");
        assertThat(web.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void silentSshClientGetsTheBannerFirst(boolean epoll) throws Exception {
        Backend ssh = backends.ssh("backend-ssh");
        Backend web = backends.http("backend-web");
        InetSocketAddress address = startProxy(epoll, builder -> builder
                .silenceTimeout(Duration.ofMillis(200))
                .route("http", ForwardTarget.of("web", web.address()))
                .route("ssh", ForwardTarget.of("ssh", ssh.address()))
                .onSilence(ForwardTarget.of("ssh", ssh.address())));

        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("SSH-2.0-backend-ssh");
            OutputStream out = socket.getOutputStream();
            out.write("SSH-2.0-Waiter_1.0\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(ssh.nextReceived()).isEqualTo("SSH-2.0-Waiter_1.0\r\n");
        }
        assertThat(web.received()).isEmpty();
        assertAllConnectionsEnd();
    }

    /**
     * Sends the bytes in chunks with short pauses (so the proxy reads them over several reads), ends the output, and
     * returns the first line the backend sent; then reads to the end of the stream.
     */
    private static String exchange(InetSocketAddress proxy, byte[] bytes, int chunk) throws Exception {
        try (Socket socket = new Socket(proxy.getAddress(), proxy.getPort())) {
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < bytes.length; i += chunk) {
                out.write(bytes, i, Math.min(chunk, bytes.length - i));
                out.flush();
                Thread.sleep(2);
            }
            socket.shutdownOutput();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            String line = in.readLine();
            assertThat(in.read()).as("end of stream after the backend closed").isEqualTo(-1);
            return line;
        }
    }
}
