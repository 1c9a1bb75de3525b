package io.refractium.spi;

import io.netty.buffer.ByteBuf;
import java.util.Set;

/**
 * A protocol detector: given the first bytes of a connection, it says whether they are its protocol.
 *
 * <p>Implementations are found explicitly ({@code RefractiumBuilder.protocol(...)}) or through
 * {@link java.util.ServiceLoader} when discovery is requested ({@code RefractiumBuilder.discoverProtocols()}); for
 * discovery, list the class in {@code META-INF/services/io.refractium.spi.RefractiumProtocol} and give it a public
 * no-argument constructor.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Stateless and thread-safe: one instance serves all connections on all event loops.</li>
 *   <li>{@link #detect} reads the bytes between the buffer's reader and writer index with absolute getters; it never
 *       moves the reader or writer index, never retains, releases or writes the buffer. The engine owns it.</li>
 *   <li>It answers {@link DetectionResult#noMatch()} on the first byte that rules the protocol out, and
 *       {@link DetectionResult#needMore()} while the bytes so far are a valid prefix.</li>
 *   <li>It is called again with a longer buffer (the same first bytes plus more) after each read, until it answers
 *       something else than {@code NEED_MORE}, or the engine decides.</li>
 *   <li>A detector that throws is treated as {@code NO_MATCH} for that connection and logged.</li>
 * </ul>
 *
 * <p>The SPI grows only through {@code default} methods.
 */
public interface RefractiumProtocol {

    /**
     * Returns the protocol's id: a stable lower-case name such as {@code "tls"} or {@code "http"}, used by routes.
     */
    String id();

    /** Returns the transports this detector can identify; by default TCP only. */
    default Set<Transport> transports() {
        return Set.of(Transport.TCP);
    }

    /**
     * Returns the priority: when several detectors could match, a higher priority is asked first and wins; among
     * equal priorities the id decides. Default {@code 0}.
     */
    default int priority() {
        return 0;
    }

    /**
     * Returns the most bytes this detector may need to decide. When the buffer holds that many and the detector
     * still answers {@code NEED_MORE}, the engine treats it as {@code NO_MATCH}. The engine's own peek cap
     * ({@code RefractiumBuilder.maxPeekBytes}) bounds it further.
     */
    int maxBytes();

    /**
     * Looks at the first bytes of a connection.
     *
     * @param buf the bytes received so far, from its reader index to its writer index; read-only for the detector
     * @param context what else is known about the connection
     * @return {@code MATCH} with attributes, {@code NEED_MORE} or {@code NO_MATCH}; never {@code null}
     */
    DetectionResult detect(ByteBuf buf, DetectionContext context);
}
