package io.refractium.bench.detect;

import io.refractium.spi.DetectionContext;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The detection contexts the detector benchmarks call with: a TCP connection still sending, or on its last call; a
 * UDP flow whose offered bytes are datagrams ending at given offsets.
 */
final class Contexts {

    /** A TCP connection still sending. */
    static final DetectionContext TCP = tcp(false);
    /** The same connection on its last call: the peek cap was reached. */
    static final DetectionContext TCP_LAST_CALL = tcp(true);

    private Contexts() {
    }

    private static DetectionContext tcp(boolean lastCall) {
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", 443);
        return new DetectionContext() {
            @Override
            public Transport transport() {
                return Transport.TCP;
            }

            @Override
            public SocketAddress remoteAddress() {
                return remote;
            }

            @Override
            public SocketAddress localAddress() {
                return local;
            }

            @Override
            public boolean isInputComplete() {
                return false;
            }

            @Override
            public boolean isLastCall() {
                return lastCall;
            }
        };
    }

    /** Returns a UDP flow still open whose offered bytes are datagrams ending at {@code ends}. */
    static DetectionContext udp(int... ends) {
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", 443);
        int[] e = ends.clone();
        return new DetectionContext() {
            @Override
            public Transport transport() {
                return Transport.UDP;
            }

            @Override
            public SocketAddress remoteAddress() {
                return remote;
            }

            @Override
            public SocketAddress localAddress() {
                return local;
            }

            @Override
            public boolean isInputComplete() {
                return false;
            }

            @Override
            public int datagrams() {
                return e.length;
            }

            @Override
            public int datagramEnd(int index) {
                return e[index];
            }
        };
    }
}
