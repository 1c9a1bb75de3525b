package io.refractium.bench.detect;

import io.refractium.spi.DetectionContext;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** The detection contexts the detector benchmarks call with: a TCP connection still sending, or on its last call. */
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
}
