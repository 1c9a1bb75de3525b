package io.refractium.spi;

import java.util.Objects;

/**
 * What a {@link RefractiumProtocol} answers after looking at the first bytes of a connection: {@link Status#MATCH}
 * (with the attributes it found), {@link Status#NEED_MORE} or {@link Status#NO_MATCH}.
 *
 * <p>{@link #needMore()} and {@link #noMatch()} return shared instances, so the undecided path allocates nothing.
 * Immutable and thread-safe.
 */
public final class DetectionResult {

    /** The three answers of a detector. */
    public enum Status {
        /** The bytes are this protocol; detection may end here. */
        MATCH,
        /** The bytes so far are a valid prefix of this protocol; more are needed to decide. */
        NEED_MORE,
        /** The bytes cannot be this protocol; the detector is not asked again for this connection. */
        NO_MATCH
    }

    private static final DetectionResult NEED_MORE = new DetectionResult(Status.NEED_MORE, ProtocolAttributes.EMPTY);
    private static final DetectionResult NO_MATCH = new DetectionResult(Status.NO_MATCH, ProtocolAttributes.EMPTY);
    private static final DetectionResult MATCH = new DetectionResult(Status.MATCH, ProtocolAttributes.EMPTY);

    private final Status status;
    private final ProtocolAttributes attributes;

    private DetectionResult(Status status, ProtocolAttributes attributes) {
        this.status = status;
        this.attributes = attributes;
    }

    /** A match without attributes. */
    public static DetectionResult match() {
        return MATCH;
    }

    /**
     * A match with the attributes the detector found.
     *
     * @param attributes the attributes, e.g. SNI and ALPN for TLS
     * @return the result
     */
    public static DetectionResult match(ProtocolAttributes attributes) {
        Objects.requireNonNull(attributes, "attributes");
        return attributes.isEmpty() ? MATCH : new DetectionResult(Status.MATCH, attributes);
    }

    /** The bytes so far are a valid prefix; ask again when more arrive. */
    public static DetectionResult needMore() {
        return NEED_MORE;
    }

    /** The bytes cannot be this protocol. */
    public static DetectionResult noMatch() {
        return NO_MATCH;
    }

    /** Returns the answer. */
    public Status status() {
        return status;
    }

    /** Returns the attributes of a match; empty for the other answers. */
    public ProtocolAttributes attributes() {
        return attributes;
    }

    /** Returns whether this is a {@link Status#MATCH}. */
    public boolean isMatch() {
        return status == Status.MATCH;
    }

    @Override
    public String toString() {
        return attributes.isEmpty() ? status.name() : status + " " + attributes;
    }
}
