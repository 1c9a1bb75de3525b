package io.refractium.spi;

/**
 * The transport a connection or flow arrives on; a {@link RefractiumProtocol} states which ones it can detect.
 */
public enum Transport {
    /** A TCP connection: detection sees the first bytes of the stream, possibly over several reads. */
    TCP,
    /** A UDP flow: detection sees the first datagram of the flow. */
    UDP
}
