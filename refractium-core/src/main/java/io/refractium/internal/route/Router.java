package io.refractium.internal.route;

import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.SilenceRoute;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.ProxyInfo;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.HookDispatcher;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The route stage: turns a detection outcome into a target of the connection's routing snapshot, and applies the
 * hooks' verdict (proceed, refuse, or reroute to another target the table names).
 */
public final class Router {

    private static final Logger log = LoggerFactory.getLogger(Router.class);

    private Router() {
    }

    /**
     * Returns the target for a detected protocol: the most specific matching route's, else the fallback, else
     * {@code null}. Records the route on the connection. Routes see the detector's attributes and, when the
     * connection arrived with a PROXY v2 header, {@link AttributeKey#PROXY_AUTHORITY} and
     * {@link AttributeKey#PROXY_ALPN} from its TLVs.
     */
    public static ForwardTarget targetFor(ConnectionState conn, String protocol, ProtocolAttributes attributes) {
        RoutingTable table = conn.snapshot().table();
        Route route = table.select(protocol, withProxyHeader(attributes, conn.proxyHeader()),
                conn.clientAddress().getAddress(), conn.localAddress());
        conn.route(route);
        return route != null ? route.target() : table.fallback();
    }

    /**
     * Returns the attributes routes and load balancers see for a connection: the detector's (empty when none was
     * detected), plus the PROXY header's authority and ALPN; see {@link #withProxyHeader}.
     */
    public static ProtocolAttributes attributes(ConnectionState conn) {
        return withProxyHeader(conn.attributes(), conn.proxyHeader());
    }

    /**
     * Returns the attributes routes see: the detector's, plus the PROXY header's authority and ALPN when it has
     * them (the detector's own attribute of the same name wins).
     */
    static ProtocolAttributes withProxyHeader(ProtocolAttributes detected, ProxyInfo header) {
        if (header == null) {
            return detected;
        }
        String authority = header.authority();
        String alpn = header.alpn();
        if (authority == null && alpn == null) {
            return detected;
        }
        if (authority != null) {
            authority = authority.toLowerCase(Locale.ROOT);
            if (authority.endsWith(".")) {
                authority = authority.substring(0, authority.length() - 1);
            }
        }
        ProtocolAttributes.Builder b = ProtocolAttributes.builder()
                .put(AttributeKey.PROXY_AUTHORITY, authority == null || authority.isEmpty() ? null : authority)
                .put(AttributeKey.PROXY_ALPN, alpn == null || alpn.isEmpty() ? null : alpn);
        for (Map.Entry<AttributeKey<?>, Object> e : detected.asMap().entrySet()) {
            copy(b, e.getKey(), e.getValue());
        }
        return b.build();
    }

    @SuppressWarnings("unchecked")
    private static void copy(ProtocolAttributes.Builder b, AttributeKey<?> key, Object value) {
        b.put((AttributeKey<Object>) key, value);
    }

    /**
     * Returns the target for a failed detection: the listener's silence route's target (else the fallback) for
     * silence, nothing for a client that left, the fallback otherwise; {@code null} when there is none.
     */
    public static ForwardTarget targetFor(ConnectionState conn, DetectionFailure failure) {
        RoutingTable table = conn.snapshot().table();
        switch (failure) {
            case SILENCE:
                SilenceRoute silence = table.silenceFor(conn.localAddress());
                return silence != null ? silence.target() : table.fallback();
            case CLIENT_CLOSED:
                return null;
            default:
                return table.fallback();
        }
    }

    /**
     * Checks that every silence deadline of the table is shorter than the detection deadline.
     *
     * @param table the routing table
     * @param peekTimeout the detection deadline
     * @param silenceTimeout the instance's silence deadline, which silence routes without their own use
     * @throws IllegalArgumentException naming the silence route, its deadline and how to fix it
     */
    public static void checkSilence(RoutingTable table, java.time.Duration peekTimeout,
                                    java.time.Duration silenceTimeout) {
        if (table.silenceTarget() != null && silenceTimeout.compareTo(peekTimeout) >= 0) {
            throw new IllegalArgumentException("silenceTimeout: " + silenceTimeout + " (expected: < peekTimeout "
                    + peekTimeout + "); shorten silenceTimeout or lengthen peekTimeout");
        }
        for (SilenceRoute s : table.listenerSilenceRoutes()) {
            java.time.Duration d = s.timeoutOr(silenceTimeout);
            if (d.compareTo(peekTimeout) >= 0) {
                throw new IllegalArgumentException("onSilence(" + s.listenerPort() + ") timeout: " + d
                        + (s.timeout() == null ? " (the silenceTimeout)" : "") + " (expected: < peekTimeout "
                        + peekTimeout + "); shorten it or lengthen peekTimeout");
            }
        }
    }

    /** The outcome of {@link #decide}. */
    public enum Verdict {
        /** Connect to {@link ConnectionState#target()}. */
        PROCEED,
        /** A hook refused the connection. */
        REFUSED,
        /** A hook rerouted to a target the routing table does not name. */
        UNKNOWN_TARGET
    }

    /**
     * Applies the hooks' decision about the chosen target and records the final one on the connection.
     *
     * @param conn the connection
     * @param chosen the target routing chose
     * @param d the hooks' decision ({@link HookDispatcher#routeChosen})
     * @return the verdict; on {@link Verdict#PROCEED} the target's runtime is {@link #runtime(ConnectionState)}
     */
    public static Verdict apply(ConnectionState conn, ForwardTarget chosen, RouteDecision d) {
        if (d.isRefused()) {
            log.debug("[{}] refused by a hook: {}", conn.id(), d.refusal());
            return Verdict.REFUSED;
        }
        ForwardTarget target = chosen;
        if (d.rerouteName() != null) {
            target = conn.snapshot().named(d.rerouteName(), d.reroute());
            if (target == null) {
                log.warn("[{}] a hook rerouted to target {}, which the routing table does not name; closing "
                        + "(declare hook-only targets with RoutingTable.Builder.target)", conn.id(), d.rerouteName());
                return Verdict.UNKNOWN_TARGET;
            }
        }
        conn.target(target);
        return Verdict.PROCEED;
    }

    /** Returns the run-time state of the connection's target in its snapshot. */
    public static TargetRuntime runtime(ConnectionState conn) {
        return conn.snapshot().runtimes().get(conn.target());
    }
}
