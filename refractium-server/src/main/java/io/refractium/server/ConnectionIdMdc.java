package io.refractium.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * Puts the connection id of each per-connection log line in the MDC under {@value #KEY}, so that a log pattern
 * ({@code %X{conn}}) or a JSON encoder can show or index it. Refractium's engine writes every per-connection line
 * as {@code "[{}] ..."} with the connection id as the first argument (and the {@link AccessLog} too); for such a
 * line, on the logging thread, this filter sets {@value #KEY} just before the event is made, and removes it for
 * any other line, so a value never leaks to an unrelated line. Lines whose level is off cost no MDC work.
 *
 * <p>Registered in the server's {@code logback.xml} as a {@code <turboFilter>}. It never filters: it answers
 * {@code NEUTRAL}.
 */
public final class ConnectionIdMdc extends TurboFilter {

    /** The MDC key. */
    public static final String KEY = "conn";

    private static final String PREFIX = "[{}]";

    /** Creates the filter; logback calls it. */
    public ConnectionIdMdc() {
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                              Throwable t) {
        if (format == null || level == null || !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
            return FilterReply.NEUTRAL;
        }
        if (format.startsWith(PREFIX) && params != null && params.length > 0 && params[0] != null) {
            MDC.put(KEY, String.valueOf(params[0]));
        } else {
            MDC.remove(KEY);
        }
        return FilterReply.NEUTRAL;
    }
}
