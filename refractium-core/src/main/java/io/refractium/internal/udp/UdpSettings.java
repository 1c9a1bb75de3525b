package io.refractium.internal.udp;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The UDP settings of one instance, as built by {@code RefractiumBuilder}: the listen addresses and the bounds of
 * each listener's flow table.
 *
 * @param listenAddresses the UDP addresses to bind; empty for none
 * @param flowIdleTimeout a flow with no datagram either way for this long leaves the table
 * @param maxFlows the most flows one listener's table holds; over it, the least valuable flow is evicted
 * @param maxFlowsPerAddress the most flows of one client IP address in one listener's table
 * @param maxFlowsInDetection the most flows of one listener still in detection (or waiting for a hook's admission)
 * @param maxDetectionDatagrams the most datagrams of a flow offered to the detectors and held until its backend
 */
public record UdpSettings(List<InetSocketAddress> listenAddresses, Duration flowIdleTimeout, int maxFlows,
                          int maxFlowsPerAddress, int maxFlowsInDetection, int maxDetectionDatagrams) {

    /** The default idle timeout of a flow: 30 seconds, as Linux's conntrack uses for UDP. */
    public static final Duration DEFAULT_FLOW_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** The default size of a listener's flow table. */
    public static final int DEFAULT_MAX_FLOWS = 65_536;
    /** The default cap of flows per client address. */
    public static final int DEFAULT_MAX_FLOWS_PER_ADDRESS = 4_096;
    /** The default cap of flows in detection. */
    public static final int DEFAULT_MAX_FLOWS_IN_DETECTION = 4_096;
    /** The default number of datagrams detection may look at. */
    public static final int DEFAULT_MAX_DETECTION_DATAGRAMS = 4;

    /** No UDP listener, default bounds. */
    public static final UdpSettings NONE = new UdpSettings(List.of(), DEFAULT_FLOW_IDLE_TIMEOUT, DEFAULT_MAX_FLOWS,
            DEFAULT_MAX_FLOWS_PER_ADDRESS, DEFAULT_MAX_FLOWS_IN_DETECTION, DEFAULT_MAX_DETECTION_DATAGRAMS);

    /** Copies the list. */
    public UdpSettings {
        listenAddresses = List.copyOf(listenAddresses);
    }
}
