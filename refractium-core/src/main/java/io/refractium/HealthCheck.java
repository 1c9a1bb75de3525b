package io.refractium;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * The active health check of a {@link ForwardTarget}'s backends: none, a TCP connect, send bytes and expect a
 * reply that starts with a prefix (an HTTP request and {@code HTTP/1.1 200}, or nothing and the {@code SSH-} banner),
 * or, for UDP backends, send a datagram and expect one back ({@link #udp(byte[], byte[])}).
 *
 * <p>Each backend is checked every {@link #interval()} (plus up to {@link #jitter()} of it at random, so checks of
 * many backends do not fire together); a check that does not finish within {@link #timeout()} fails. A healthy
 * backend is marked down after {@link #fall()} consecutive failures, a down backend up after {@link #rise()}
 * consecutive successes. Checks never count as client traffic.
 *
 * <p>Immutable and thread-safe; the {@code with*} methods return copies. Defaults: interval 2 s, timeout 1 s,
 * rise 2, fall 3, jitter 0.1.
 */
public final class HealthCheck {

    /** The kinds of active check. */
    public enum Kind {
        /** No active check; only passive health (failures of real traffic) applies. */
        NONE,
        /** A TCP connect that succeeds within the timeout. */
        CONNECT,
        /** Connect, send the request bytes (if any), and read a reply that starts with the expected prefix. */
        SEND_EXPECT,
        /**
         * Send one UDP datagram from a socket connected to the backend and expect a datagram back, starting with the
         * expected prefix, within the timeout; an ICMP port unreachable fails it at once.
         */
        UDP
    }

    private static final HealthCheck NONE = new HealthCheck(Kind.NONE, new byte[0], new byte[0],
            Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, 0.1);

    private final Kind kind;
    private final byte[] send;
    private final byte[] expect;
    private final Duration interval;
    private final Duration timeout;
    private final int rise;
    private final int fall;
    private final double jitter;
    private final boolean startsUp;

    private HealthCheck(Kind kind, byte[] send, byte[] expect, Duration interval, Duration timeout, int rise, int fall,
                        double jitter) {
        this(kind, send, expect, interval, timeout, rise, fall, jitter, true);
    }

    private HealthCheck(Kind kind, byte[] send, byte[] expect, Duration interval, Duration timeout, int rise, int fall,
                        double jitter, boolean startsUp) {
        this.startsUp = startsUp;
        this.kind = kind;
        this.send = send;
        this.expect = expect;
        this.interval = interval;
        this.timeout = timeout;
        this.rise = rise;
        this.fall = fall;
        this.jitter = jitter;
    }

    /** No active check (the default of a target). */
    public static HealthCheck none() {
        return NONE;
    }

    /** A TCP connect check with the default timing. */
    public static HealthCheck connect() {
        return new HealthCheck(Kind.CONNECT, new byte[0], new byte[0], NONE.interval, NONE.timeout, NONE.rise,
                NONE.fall, NONE.jitter);
    }

    /**
     * A check that sends bytes and expects a reply prefix.
     *
     * @param send the request, sent as US-ASCII/UTF-8 bytes; may be empty (then it only reads, e.g. an SSH banner)
     * @param expectPrefix the reply must start with these bytes; not empty
     * @return the check
     */
    public static HealthCheck sendExpect(String send, String expectPrefix) {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(expectPrefix, "expect");
        if (expectPrefix.isEmpty()) {
            throw new IllegalArgumentException("expect: \"\" (expected: a non-empty reply prefix)");
        }
        return new HealthCheck(Kind.SEND_EXPECT, send.getBytes(StandardCharsets.UTF_8),
                expectPrefix.getBytes(StandardCharsets.UTF_8), NONE.interval, NONE.timeout, NONE.rise, NONE.fall,
                NONE.jitter);
    }

    /**
     * A UDP check with the default timing: each check sends {@code send} as one datagram from a socket connected to
     * the backend, and passes when a datagram comes back within the timeout that starts with {@code expectPrefix}
     * (any datagram when it is empty). For a DNS server, a query as {@code send} and its two-byte id as the prefix.
     * A UDP check says nothing about the backend's TCP port.
     *
     * @param send the datagram's bytes, 1 to 65 507 (copied)
     * @param expectPrefix the prefix the reply must start with, possibly empty (copied)
     * @return the check
     */
    public static HealthCheck udp(byte[] send, byte[] expectPrefix) {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(expectPrefix, "expectPrefix");
        if (send.length < 1 || send.length > 65_507) {
            throw new IllegalArgumentException("send: " + send.length + " bytes (expected: 1-65507, one datagram)");
        }
        return new HealthCheck(Kind.UDP, send.clone(), expectPrefix.clone(), NONE.interval, NONE.timeout, NONE.rise,
                NONE.fall, NONE.jitter);
    }

    /** Returns the kind of check. */
    public Kind kind() {
        return kind;
    }

    /** Returns a copy of the bytes sent by a {@link Kind#SEND_EXPECT} or {@link Kind#UDP} check. */
    public byte[] send() {
        return send.clone();
    }

    /** Returns a copy of the reply prefix a {@link Kind#SEND_EXPECT} or {@link Kind#UDP} check expects. */
    public byte[] expect() {
        return expect.clone();
    }

    /** Returns the time between checks of one backend; default 2 s. */
    public Duration interval() {
        return interval;
    }

    /** Returns how long one check may take; default 1 s. */
    public Duration timeout() {
        return timeout;
    }

    /** Returns the consecutive successes that mark a down backend up; default 2. */
    public int rise() {
        return rise;
    }

    /** Returns the consecutive failures that mark an up backend down; default 3. */
    public int fall() {
        return fall;
    }

    /** Returns the random extra delay added to each interval, as a fraction of it (0 to 1); default 0.1. */
    public double jitter() {
        return jitter;
    }

    /**
     * Returns a copy with the interval.
     *
     * @param interval greater than zero
     * @return the copy
     */
    public HealthCheck withInterval(Duration interval) {
        return new HealthCheck(kind, send, expect, positive("interval", interval), timeout, rise, fall, jitter, startsUp);
    }

    /**
     * Returns a copy with the timeout.
     *
     * @param timeout greater than zero
     * @return the copy
     */
    public HealthCheck withTimeout(Duration timeout) {
        return new HealthCheck(kind, send, expect, interval, positive("timeout", timeout), rise, fall, jitter, startsUp);
    }

    /**
     * Returns a copy with the rise threshold.
     *
     * @param rise 1 or more
     * @return the copy
     */
    public HealthCheck withRise(int rise) {
        if (rise < 1) {
            throw new IllegalArgumentException("rise: " + rise + " (expected: >= 1)");
        }
        return new HealthCheck(kind, send, expect, interval, timeout, rise, fall, jitter, startsUp);
    }

    /**
     * Returns a copy with the fall threshold.
     *
     * @param fall 1 or more
     * @return the copy
     */
    public HealthCheck withFall(int fall) {
        if (fall < 1) {
            throw new IllegalArgumentException("fall: " + fall + " (expected: >= 1)");
        }
        return new HealthCheck(kind, send, expect, interval, timeout, rise, fall, jitter, startsUp);
    }

    /**
     * Returns a copy with the jitter.
     *
     * @param jitter 0 to 1, a fraction of the interval
     * @return the copy
     */
    public HealthCheck withJitter(double jitter) {
        if (!(jitter >= 0 && jitter <= 1)) {
            throw new IllegalArgumentException("jitter: " + jitter + " (expected: 0-1)");
        }
        return new HealthCheck(kind, send, expect, interval, timeout, rise, fall, jitter, startsUp);
    }

    /**
     * Returns whether backends count as up before their first check; default {@code true}, so traffic flows at once.
     * When {@code false}, a backend takes traffic only after {@link #rise()} successful checks.
     */
    public boolean startsUp() {
        return startsUp;
    }

    /**
     * Returns a copy whose backends start up (the default) or down until they pass {@link #rise()} checks.
     *
     * @param startsUp whether backends start up
     * @return the copy
     */
    public HealthCheck withStartsUp(boolean startsUp) {
        return new HealthCheck(kind, send, expect, interval, timeout, rise, fall, jitter, startsUp);
    }

    private static Duration positive(String setting, Duration d) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(setting + ": " + d + " (expected: > 0)");
        }
        return d;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof HealthCheck)) {
            return false;
        }
        HealthCheck h = (HealthCheck) o;
        return kind == h.kind && Arrays.equals(send, h.send) && Arrays.equals(expect, h.expect)
                && interval.equals(h.interval) && timeout.equals(h.timeout) && rise == h.rise && fall == h.fall
                && jitter == h.jitter && startsUp == h.startsUp;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, Arrays.hashCode(send), Arrays.hashCode(expect), interval, timeout, rise, fall, jitter,
                startsUp);
    }

    @Override
    public String toString() {
        if (kind == Kind.NONE) {
            return "none";
        }
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " interval=" + interval + " timeout=" + timeout
                + " rise=" + rise + " fall=" + fall;
    }
}
