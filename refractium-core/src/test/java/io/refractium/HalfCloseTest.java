package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client FIN reaches the backend after everything the client sent, and the backend's answer still reaches the
 * client afterwards: on the splice path, the epoll copy path and NIO, and when the FIN arrives during detection.
 */
@Timeout(30)
class HalfCloseTest {

    @ParameterizedTest(name = "native={0} splice={1} finDuringDetection={2}")
    @CsvSource({"true,true,false", "true,false,false", "false,true,false", "true,true,true", "false,true,true"})
    void theOtherDirectionKeepsGoingAfterAFin(boolean nativeTransport, boolean splice, boolean finDuringDetection)
            throws Exception {
        if (nativeTransport) {
            assumeTrue(Epoll.isAvailable(), "epoll is not available");
        }
        // The backend reads until EOF, then answers with what it counted, then closes.
        try (TestServer backend = TestServer.start(s -> {
            byte[] all = s.getInputStream().readAllBytes();
            OutputStream out = s.getOutputStream();
            out.write(("received " + all.length + " bytes ending in "
                    + new String(all, all.length - 4, 4, StandardCharsets.US_ASCII) + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .nativeTransport(nativeTransport).splice(splice)
                    .protocol(new PrefixProtocol("hc", "HALF"))
                    .route("hc", ForwardTarget.of("b", backend.hostAndPort()))
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                OutputStream out = c.getOutputStream();
                if (finDuringDetection) {
                    out.write("HALF-stop".getBytes(StandardCharsets.US_ASCII));
                    c.shutdownOutput();
                    assertThat(TestServer.readLine(c.getInputStream())).isEqualTo("received 9 bytes ending in stop");
                } else {
                    out.write("HALF".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(100); // detected and relaying before the rest arrives
                    byte[] body = new byte[300_000];
                    java.util.Arrays.fill(body, (byte) 'x');
                    out.write(body);
                    out.write("done".getBytes(StandardCharsets.US_ASCII));
                    c.shutdownOutput();
                    assertThat(TestServer.readLine(c.getInputStream()))
                            .isEqualTo("received " + (4 + 300_000 + 4) + " bytes ending in done");
                }
                assertThat(c.getInputStream().read()).isEqualTo(-1);
            }
        }
    }
}
