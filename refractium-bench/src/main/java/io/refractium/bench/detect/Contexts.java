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
    static final DetectionContext TCP = new Fixed(Transport.TCP, false);
    /** The same connection on its last call: the peek cap was reached. */
    static final DetectionContext TCP_LAST_CALL = new Fixed(Transport.TCP, true);

    private Contexts() {
    }

    /** Returns a UDP flow still open whose offered bytes are datagrams ending at {@code ends}. */
    static DetectionContext udp(int... ends) {
        return new Fixed(Transport.UDP, false, ends);
    }

    /** A context of fixed answers: a client on 127.0.0.1:40000 of a listener on 127.0.0.1:443, still sending. */
    static class Fixed implements DetectionContext {
        private static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 40000);
        private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);

        private final Transport transport;
        private final boolean lastCall;
        private final int[] ends;

        Fixed(Transport transport, boolean lastCall, int... ends) {
            this.transport = transport;
            this.lastCall = lastCall;
            this.ends = ends.clone();
        }

        @Override
        public Transport transport() {
            return transport;
        }

        @Override
        public SocketAddress remoteAddress() {
            return REMOTE;
        }

        @Override
        public SocketAddress localAddress() {
            return LOCAL;
        }

        @Override
        public boolean isInputComplete() {
            return false;
        }

        @Override
        public boolean isLastCall() {
            return lastCall;
        }

        @Override
        public int datagrams() {
            return ends.length;
        }

        @Override
        public int datagramEnd(int index) {
            if (index < 0 || index >= ends.length) {
                return DetectionContext.super.datagramEnd(index);
            }
            return ends[index];
        }
    }
}
