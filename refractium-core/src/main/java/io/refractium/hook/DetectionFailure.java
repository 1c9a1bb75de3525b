package io.refractium.hook;

/** Why detection ended without a protocol. */
public enum DetectionFailure {
    /** The client sent nothing before the silence deadline (or, without a silent-client target, the detection deadline). */
    SILENCE,
    /** Every detector answered no match, or the client finished sending before any matched. */
    NO_MATCH,
    /** The peek cap was reached with detectors still undecided. */
    TOO_MANY_BYTES,
    /** The detection deadline passed after the client had sent some bytes. */
    DEADLINE,
    /** The client closed the connection before sending anything. */
    CLIENT_CLOSED
}
