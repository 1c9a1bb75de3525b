package io.refractium.internal.proxy;

import io.refractium.Cidr;
import io.refractium.ProxyProtocolMode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How one listener receives PROXY protocol headers: whether it requires one, and from which source networks a
 * header is believed.
 *
 * @param mode required or optional
 * @param trusted the source networks allowed to send a header; a header from anywhere else closes the connection
 */
public record ProxyAcceptance(ProxyProtocolMode mode, List<Cidr> trusted) {

    /** Checks and copies the values. */
    public ProxyAcceptance {
        Objects.requireNonNull(mode, "mode");
        trusted = List.copyOf(trusted);
    }

    /** Returns whether a header from this source address is believed. */
    public boolean isTrusted(InetAddress source) {
        for (int i = 0, n = trusted.size(); i < n; i++) {
            if (trusted.get(i).contains(source)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The PROXY protocol settings of every listener: one for all listeners and one per listener port, which wins.
     *
     * @param all the setting of listeners without one of their own, or {@code null}
     * @param byPort the settings by listener port
     */
    public record Listeners(ProxyAcceptance all, Map<Integer, ProxyAcceptance> byPort) {

        /** No listener receives PROXY headers. */
        public static final Listeners NONE = new Listeners(null, Map.of());

        /** Copies the map. */
        public Listeners {
            byPort = Map.copyOf(byPort);
        }

        /** Returns the setting of the listener a connection arrived on, or {@code null} when it takes no header. */
        public ProxyAcceptance forListener(InetSocketAddress local) {
            if (local != null && !byPort.isEmpty()) {
                ProxyAcceptance a = byPort.get(local.getPort());
                if (a != null) {
                    return a;
                }
            }
            return all;
        }
    }
}
