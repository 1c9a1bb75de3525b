package io.refractium.internal.proxy;

import io.refractium.hook.CloseReason;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.engine.ConnectionState;

/**
 * Where the PROXY header stage ({@link ProxyHeaderHandler}) takes its admission decisions: the per-address limits
 * checked against the real client address, and the counting, closing and reporting of a refusal. The engine's
 * implementation uses its admission control and hooks; {@link #NONE} admits every address and only closes a refused
 * connection, for stage tests. Called on the connection's event loop.
 */
public interface ProxyGate {

    /** Admits every address; a refusal counts nothing and only closes the connection with {@code REFUSED}. */
    ProxyGate NONE = new ProxyGate() {
        @Override
        public Refusal admitClient(ConnectionState conn) {
            return null;
        }

        @Override
        public Refusal refusal(RefusalReason reason, String limit) {
            return new Refusal(reason, limit);
        }

        @Override
        public void refuse(ConnectionState conn, Refusal refusal) {
            conn.detail(refusal.reason() + " (" + refusal.limit() + ")");
            conn.close(CloseReason.REFUSED);
        }
    };

    /**
     * Runs the per-address admission checks that were left for later at accept against the connection's client
     * address (the real one, once the header is read).
     *
     * @param conn the connection, its client address set
     * @return the refusal, already counted, or {@code null} when admitted
     */
    Refusal admitClient(ConnectionState conn);

    /**
     * Counts a refusal decided by the header stage and returns it.
     *
     * @param reason the reason
     * @param limit the setting that refused it and its value, or what was wrong
     * @return the refusal
     */
    Refusal refusal(RefusalReason reason, String limit);

    /**
     * Closes a refused connection at once (with a reset when configured) and reports it to the hooks'
     * {@code onRefused} with its client address.
     *
     * @param conn the connection
     * @param refusal the refusal, counted
     */
    void refuse(ConnectionState conn, Refusal refusal);
}
