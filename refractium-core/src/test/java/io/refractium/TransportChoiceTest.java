package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.refractium.internal.transport.Transports;
import io.refractium.testing.TestServer;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The I/O transport setting: io_uring relays on real sockets where the kernel allows it, and fails fast elsewhere. */
@Timeout(30)
class TransportChoiceTest {

    @Test
    void ioUringRelaysWhereItIsAvailable() throws Exception {
        assumeTrue(Transports.isIoUringAvailable(), "io_uring is not available");
        try (TestServer backend = TestServer.greeter("backend");
             Refractium r = Refractium.builder().listen("127.0.0.1", 0).transport(IoTransport.IO_URING)
                     .fallback(ForwardTarget.of("echo", backend.hostAndPort())).build().start();
             Socket c = new Socket()) {
            c.connect(r.localAddress(), 2000);
            c.setSoTimeout(10_000);
            c.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = c.getInputStream();
            assertThat(new String(in.readNBytes(14), StandardCharsets.US_ASCII)).isEqualTo("backend\nhello\n");
            assertThat(r.splicedConnections()).isZero();
            assertThat(r.transport()).isEqualTo(IoTransport.IO_URING);
        }
    }

    /**
     * The default, {@link IoTransport#NATIVE}, runs on io_uring where the kernel allows it, else on epoll, else on NIO;
     * with splicing on, on epoll where it can, the only transport that splices. Each instance relays on what it chose.
     */
    @Test
    void theDefaultIsIoUringWhereItCanRunAndEpollWhenSplicing() throws Exception {
        IoTransport best = Transports.isIoUringAvailable() ? IoTransport.IO_URING
                : Transports.isEpollAvailable() ? IoTransport.EPOLL : IoTransport.NIO;
        IoTransport splicing = Transports.isEpollAvailable() ? IoTransport.EPOLL : best;
        try (TestServer backend = TestServer.greeter("backend")) {
            for (boolean splice : new boolean[] {false, true}) {
                try (Refractium r = Refractium.builder().listen("127.0.0.1", 0).splice(splice)
                        .fallback(ForwardTarget.of("echo", backend.hostAndPort())).build().start();
                     Socket c = new Socket()) {
                    assertThat(r.transport()).as("splice " + splice).isEqualTo(splice ? splicing : best);
                    c.connect(r.localAddress(), 2000);
                    c.setSoTimeout(10_000);
                    c.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                    assertThat(new String(c.getInputStream().readNBytes(14), StandardCharsets.US_ASCII))
                            .isEqualTo("backend\nhello\n");
                }
            }
        }
    }

    @Test
    void askingForIoUringWhereItCannotRunFailsAtBuild() {
        assumeFalse(Transports.isIoUringAvailable(), "io_uring is available here");
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0).transport(IoTransport.IO_URING)
                .fallback(ForwardTarget.of("x", "127.0.0.1:1")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("transport: IO_URING");
    }
}
