package io.refractium.internal.engine;

import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detectors of one instance, ordered by priority (highest first) then id. Explicit registrations win over
 * {@link ServiceLoader} discovery for the same id; immutable once created.
 */
public final class ProtocolRegistry {

    private static final Logger log = LoggerFactory.getLogger(ProtocolRegistry.class);

    private static final Comparator<RefractiumProtocol> ORDER =
            Comparator.comparingInt(RefractiumProtocol::priority).reversed().thenComparing(RefractiumProtocol::id);

    private final RefractiumProtocol[] tcp;
    private final RefractiumProtocol[] udp;
    private final Map<String, RefractiumProtocol> byId;

    private ProtocolRegistry(List<RefractiumProtocol> ordered) {
        Map<String, RefractiumProtocol> m = new LinkedHashMap<>();
        List<RefractiumProtocol> tcpList = new ArrayList<>();
        List<RefractiumProtocol> udpList = new ArrayList<>();
        for (RefractiumProtocol p : ordered) {
            m.put(p.id(), p);
            if (p.transports().contains(Transport.TCP)) {
                tcpList.add(p);
            }
            if (p.transports().contains(Transport.UDP)) {
                udpList.add(p);
            }
        }
        this.byId = java.util.Collections.unmodifiableMap(m);
        this.tcp = tcpList.toArray(new RefractiumProtocol[0]);
        this.udp = udpList.toArray(new RefractiumProtocol[0]);
    }

    /**
     * Builds the registry.
     *
     * @param explicit detectors registered by the application
     * @param discover whether to add {@link ServiceLoader} providers
     * @param loader the class loader for discovery, or {@code null} for the context class loader
     * @return the registry
     */
    public static ProtocolRegistry create(List<RefractiumProtocol> explicit, boolean discover, ClassLoader loader) {
        Map<String, RefractiumProtocol> chosen = new LinkedHashMap<>();
        for (RefractiumProtocol p : explicit) {
            String id = checkId(p);
            RefractiumProtocol previous = chosen.putIfAbsent(id, p);
            if (previous != null) {
                throw new IllegalArgumentException("protocol id \"" + id + "\" is registered twice: by "
                        + previous.getClass().getName() + " and by " + p.getClass().getName());
            }
            checkMaxBytes(p);
        }
        if (discover) {
            ClassLoader cl = loader != null ? loader : Thread.currentThread().getContextClassLoader();
            var it = ServiceLoader.load(RefractiumProtocol.class, cl).iterator();
            while (true) {
                RefractiumProtocol p;
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    p = it.next();
                    String id = checkId(p);
                    checkMaxBytes(p);
                    RefractiumProtocol previous = chosen.putIfAbsent(id, p);
                    if (previous != null && previous.getClass() != p.getClass()) {
                        log.info("protocol {}: keeping {}, ignoring discovered {}", id,
                                previous.getClass().getName(), p.getClass().getName());
                    }
                } catch (ServiceConfigurationError | RuntimeException e) {
                    log.warn("skipping a protocol provider that failed to load: {}", e.toString());
                }
            }
        }
        List<RefractiumProtocol> ordered = new ArrayList<>(chosen.values());
        ordered.sort(ORDER);
        ProtocolRegistry r = new ProtocolRegistry(ordered);
        log.info("protocols (in detection order): {}", r.describe());
        return r;
    }

    private static String checkId(RefractiumProtocol p) {
        String id = p.id();
        if (id == null || id.isEmpty() || !id.equals(id.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("protocol id: \"" + id + "\" of " + p.getClass().getName()
                    + " (expected: a non-empty lower-case id)");
        }
        return id;
    }

    private static void checkMaxBytes(RefractiumProtocol p) {
        if (p.maxBytes() < 1) {
            throw new IllegalArgumentException("protocol " + p.id() + ": maxBytes " + p.maxBytes() + " (expected: >= 1)");
        }
    }

    /** Returns the TCP detectors in detection order; do not modify. */
    public RefractiumProtocol[] tcp() {
        return tcp;
    }

    /** Returns the UDP detectors in detection order; do not modify. */
    public RefractiumProtocol[] udp() {
        return udp;
    }

    /** Returns the detectors by id, in detection order. */
    public Map<String, RefractiumProtocol> byId() {
        return byId;
    }

    /**
     * Checks that every route names a registered protocol.
     *
     * @param table the routing table
     * @throws IllegalArgumentException naming the route and the known ids
     */
    public void checkRoutes(RoutingTable table) {
        for (Route r : table.routes()) {
            if (!byId.containsKey(r.protocol())) {
                throw new IllegalArgumentException("route " + r + ": unknown protocol \"" + r.protocol()
                        + "\" (expected one of " + byId.keySet() + "; register its detector or call discoverProtocols())");
            }
        }
    }

    private String describe() {
        StringBuilder sb = new StringBuilder();
        for (RefractiumProtocol p : byId.values()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(p.id()).append("(priority ").append(p.priority()).append(')');
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
