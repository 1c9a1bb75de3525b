package io.refractium.protocols.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects an HTTP/1.0 or HTTP/1.1 request from its request line (RFC 9112 §3) and reports the method, the request
 * target, its normalised path, the version and the host.
 *
 * <p>Up to {@value #MAX_EMPTY_LINES} empty lines (CR LF or a bare LF) before the request line are ignored (RFC 9112
 * §2.2); one more is a mismatch. The request line is {@code method SP request-target SP HTTP-version}, ended by CR LF
 * or a bare LF. The method is any token (RFC 9110 §5.6.2 {@code tchar}s, case-sensitive, RFC 9110 §9.1) of at most
 * {@value #MAX_METHOD_LENGTH} bytes; the request target is non-empty, starts with {@code /}, {@code *}, {@code [}, a
 * letter or a digit, and holds no whitespace or control characters; the version is exactly {@code HTTP/1.0} or
 * {@code HTTP/1.1}. What keeps other protocols and random bytes out is the version: no other protocol's first line
 * ends with it. The HTTP/2 connection preface ({@code PRI * HTTP/2.0}) is not an HTTP/1 request: see
 * {@link io.refractium.protocols.http2.Http2Detector}. The detector answers {@link DetectionResult#noMatch() NO_MATCH} on the first byte
 * that breaks these rules, so on the first byte for anything that begins with neither a {@code tchar} nor an empty
 * line.
 *
 * <p>When does it match? The host of a request is, by RFC 9112 §3.2 and §7.2, the authority of an absolute-form
 * target ({@code GET http://host:port/path HTTP/1.1}) or of a {@code CONNECT} target ({@code host:port}), else the
 * {@code Host} header. So the detector matches:
 * <ul>
 *   <li>at the end of the request line when the target is absolute-form or the method is {@code CONNECT}: the host
 *       is the target's (the {@code Host} header is not consulted, as a server ignores it, RFC 9112 §3.2.2);</li>
 *   <li>else at the end of the header section (the empty line), with the host of the {@code Host} header (the name
 *       is case-insensitive, RFC 9110 §5.1) when there is exactly one, well-formed, header (see below);</li>
 *   <li>else, with a complete request line, at the first header line that is not {@code name: value} (for example
 *       {@code Host : a.test}, whitespace before the colon: the server will answer 400, but the bytes are HTTP),
 *       without a host;</li>
 *   <li>else on the last call ({@link DetectionContext#isLastCall()}, {@link DetectionContext#isInputComplete()}, or
 *       {@value #MAX_BYTES} bytes received) with a complete request line, without a host, since the header section
 *       was not seen whole: the request line says HTTP, the headers are just too long or too late.</li>
 * </ul>
 *
 * <p>A request is not routed by a {@code Host} header that a server might read differently than this detector: the
 * host attribute is left out, and the request still matches as {@code http} (so it goes to an {@code http} route
 * without host conditions, or to the fallback), when the request has two or more {@code Host} header lines, when a
 * {@code Host} line is followed by an obsolete line folding (a line starting with SP or HTAB, RFC 9112 §5.2), when a
 * line has whitespace before its colon (see above), when the header section is not complete by the last call, or
 * when the value is not a valid host (below).
 *
 * <p>Attributes of a match:
 * <ul>
 *   <li>{@link AttributeKey#HTTP_METHOD}: the method as sent;</li>
 *   <li>{@link AttributeKey#HTTP_TARGET}: the request target as sent, one character per byte;</li>
 *   <li>{@link AttributeKey#HTTP_PATH}: the path of an origin-form target ({@code /...}) or of an absolute-form one
 *       ({@code /} when it has none), normalised for path-prefix routes, exactly as follows: the query (from the
 *       first {@code ?}) and a fragment (from the first {@code #}) are cut off; each {@code %XX} that encodes an
 *       unreserved character (RFC 3986 §2.3: letters, digits, {@code - . _ ~}) is decoded, every other {@code %XX}
 *       (such as {@code %2F}, an encoded slash) is kept with its hex digits in upper case; the path is then cut into
 *       segments at the literal {@code /} only (so {@code %2F} never splits a segment, and {@code %2F..%2F} is no
 *       dot segment), and the segments {@code .} and {@code ..} (also when written {@code %2E}) are removed as in
 *       RFC 3986 §5.2.4 ({@code ..} also removes the segment before it; a {@code ..} past the root stays at the
 *       root). Nothing else changes: empty segments ({@code //}) stay, bytes outside ASCII stay one character per
 *       byte, {@code ;} parameters and {@code \} are ordinary characters. A path with a {@code %} not followed by two
 *       hex digits has no path attribute, nor have the asterisk-form ({@code *}) and authority-form targets;</li>
 *   <li>{@link AttributeKey#HTTP_VERSION}: {@code "HTTP/1.0"} or {@code "HTTP/1.1"};</li>
 *   <li>{@link AttributeKey#HTTP_HOST} when known (see above) and valid: the value trimmed of whitespace, without
 *       the port or (in a target) the user information, lower-case, without a trailing dot. A valid host is a name of
 *       dot-separated labels of letters, digits and hyphens (1 to 63 bytes each, at most 253 in all; an IPv4 literal
 *       is one), or an IPv6 literal in brackets (RFC 3986 §3.2.2; reported without its brackets, {@code [::1]:8080}
 *       gives {@code ::1}), optionally followed by {@code :} and a port of at most 5 digits. Anything else (an
 *       underscore, a slash, a {@code %}, an empty label, bytes outside ASCII, an empty value) gives no host, so
 *       {@code a.example/.b.example} never matches a {@code *.b.example} route.</li>
 * </ul>
 *
 * <p>Each call resumes where the previous one on the same connection stopped ({@link DetectionContext#progress()}):
 * in the request target, at the version, or in the header line not completely received, where its search for the
 * line's end left off; so a request that arrives one byte per read costs time linear in its length, not quadratic.
 * Without a saved progress each call starts from the beginning, with the same answers.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class HttpDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "http";

    /** The most bytes the detector reads, {@value}: the request line and the headers it searches for a host. */
    public static final int MAX_BYTES = 16 * 1024;

    /** The most empty lines accepted before the request line, {@value} (RFC 9112 §2.2 sets no number). */
    public static final int MAX_EMPTY_LINES = 8;

    /** The longest method accepted, {@value} bytes (the longest registered method has 17). */
    public static final int MAX_METHOD_LENGTH = 32;

    /** Common methods, reported as these constants rather than new strings. */
    private static final String[] METHOD_NAMES = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    };
    private static final byte[] CONNECT = "CONNECT".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VERSION_PREFIX = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    private static final String HTTP_1_0 = "HTTP/1.0";
    private static final String HTTP_1_1 = "HTTP/1.1";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    /** Whether each ASCII byte is a {@code tchar} (RFC 9110 §5.6.2). */
    private static final boolean[] TCHAR = new boolean[128];

    static {
        for (char c : "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    /** Goes on while the bytes are {@code tchar}s: a header name. */
    private static final ByteProcessor TOKEN_CHARS = b -> b >= 0 && TCHAR[b];
    /** In the progress: no Host header line seen yet. */
    private static final int NO_HOST = 0;
    /** In the progress: a Host header that must not be used (a second one, or folded). */
    private static final int BAD_HOST = 1;

    /** Creates the detector. */
    public HttpDetector() {
    }

    /**
     * Returns {@value #ID}.
     *
     * @return the protocol id
     */
    @Override
    public String id() {
        return ID;
    }

    /**
     * Returns {@value #MAX_BYTES}; with a complete request line the detector decides by then.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the request line and searches the headers for the host, from where the previous call on the same
     * connection stopped ({@link DetectionContext#progress()}), and saves where this one stops.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether this is the last call, and where the previous call stopped
     * @return {@code MATCH} with method, target, path, version and host (when known), {@code NEED_MORE} while the
     *         bytes are a valid prefix of a request whose header section has not ended yet, {@code NO_MATCH}
     *         otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        boolean capped = buf.writerIndex() - start >= MAX_BYTES;
        int end = capped ? start + MAX_BYTES : buf.writerIndex();
        boolean last = capped || context.isInputComplete() || context.isLastCall();
        if (start >= end) {
            return last ? DetectionResult.noMatch() : DetectionResult.needMore();
        }

        long progress = context.progress();
        int stage = Progress.stage(progress);
        if (stage == Progress.HEADERS) {
            int targetEnd = start + Progress.targetEnd(progress);
            return headers(buf, start, end, last, targetEnd, start + Progress.line(progress),
                    start + Progress.position(progress), Progress.host(progress), Progress.afterHost(progress),
                    context);
        }
        int methodEnd;
        if (stage == Progress.START) {
            // empty lines, then the method: a token followed by SP
            int line = start;
            for (int empty = 0; ; empty++) {
                if (line >= end) {
                    return incomplete(last, context, 0);
                }
                int b = buf.getByte(line);
                if (b != '\r' && b != '\n') {
                    break;
                }
                if (empty == MAX_EMPTY_LINES) {
                    return DetectionResult.noMatch();
                }
                if (b == '\r') {
                    if (line + 1 >= end) {
                        return incomplete(last, context, 0);
                    }
                    if (buf.getByte(line + 1) != '\n') {
                        return DetectionResult.noMatch();
                    }
                    line++;
                }
                line++;
            }
            int m = line;
            while (true) {
                if (m >= end) {
                    return incomplete(last, context, 0);
                }
                int b = buf.getByte(m);
                if (b == ' ' && m > line) {
                    break;
                }
                if (!isTokenChar(b) || m - line == MAX_METHOD_LENGTH) {
                    return DetectionResult.noMatch();
                }
                m++;
            }
            methodEnd = m;
        } else {
            methodEnd = start + Progress.line(progress);
        }
        int target = methodEnd + 1;

        int targetEnd;
        if (stage == Progress.VERSION) {
            targetEnd = start + Progress.targetEnd(progress);
        } else {
            // request-target: at least one visible byte, no whitespace or control characters
            int t = stage == Progress.TARGET ? start + Progress.position(progress) : target;
            while (true) {
                if (t >= end) {
                    return incomplete(last, context,
                            Progress.of(Progress.TARGET, t - start, methodEnd - start, 0, NO_HOST, false));
                }
                int b = buf.getUnsignedByte(t);
                if (b == ' ') {
                    break;
                }
                if (b <= ' ' || b == 0x7f || t == target && !isTargetStart(b)) {
                    return DetectionResult.noMatch();
                }
                t++;
            }
            if (t == target) {
                return DetectionResult.noMatch();
            }
            targetEnd = t;
        }
        long versionProgress = Progress.of(Progress.VERSION, 0, methodEnd - start, targetEnd - start, NO_HOST, false);

        // HTTP-version, then CR LF or LF
        int v = targetEnd + 1;
        for (int i = 0; i < VERSION_PREFIX.length; i++) {
            if (v + i >= end) {
                return incomplete(last, context, versionProgress);
            }
            if (buf.getByte(v + i) != VERSION_PREFIX[i]) {
                return DetectionResult.noMatch();
            }
        }
        int minor = v + VERSION_PREFIX.length;
        if (minor >= end) {
            return incomplete(last, context, versionProgress);
        }
        int m = buf.getByte(minor);
        if (m != '0' && m != '1') {
            return DetectionResult.noMatch();
        }
        int eol = minor + 1;
        if (eol >= end) {
            return incomplete(last, context, versionProgress);
        }
        int b = buf.getByte(eol);
        if (b == '\r') {
            if (++eol >= end) {
                return incomplete(last, context, versionProgress);
            }
            b = buf.getByte(eol);
        }
        if (b != '\n') {
            return DetectionResult.noMatch();
        }
        int headers = eol + 1;

        // The host of an absolute-form or authority-form target wins over the Host header (RFC 9112 §3.2.2).
        if (isConnect(buf, start, methodEnd)) {
            return match(buf, start, targetEnd, authorityHost(buf, target, targetEnd));
        }
        int authority = absoluteFormAuthority(buf, target, targetEnd);
        if (authority >= 0) {
            return match(buf, start, targetEnd, authorityHost(buf, authority, authorityEnd(buf, authority, targetEnd)));
        }
        return headers(buf, start, end, last, targetEnd, headers, headers, NO_HOST, false, context);
    }

    /**
     * Reads the header lines from the line that starts at {@code line}, in which no LF comes before {@code from},
     * until the end of the header section or a malformed line, noting the {@code Host} line; when neither has arrived,
     * saves where the search stopped.
     *
     * @param host {@link #NO_HOST}, {@link #BAD_HOST}, or the offset from {@code start} of the one Host line so far
     * @param afterHost whether the last complete line was a Host line (so a folded line continues it)
     */
    private static DetectionResult headers(ByteBuf buf, int start, int end, boolean last, int targetEnd, int line,
                                           int from, int host, boolean afterHost, DetectionContext context) {
        while (line < end) {
            int lf = buf.indexOf(Math.max(line, from), end, (byte) '\n');
            if (lf < 0) {
                break;
            }
            int lineEnd = lf > line && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (lineEnd == line) {
                return match(buf, start, targetEnd, host > BAD_HOST ? hostHeader(buf, start + host) : null);
            }
            int first = buf.getByte(line);
            if (first == ' ' || first == '\t') {
                // an obsolete line folding (RFC 9112 §5.2): it continues the line before
                if (afterHost) {
                    host = BAD_HOST;
                }
            } else {
                int colon = buf.forEachByte(line, lineEnd - line, TOKEN_CHARS);
                if (colon == line || colon < 0 || buf.getByte(colon) != ':') {
                    return match(buf, start, targetEnd, null);
                }
                afterHost = colon - line == 4 && isHost(buf, line);
                if (afterHost) {
                    host = host == NO_HOST ? line - start : BAD_HOST;
                }
            }
            line = lf + 1;
        }
        if (last) {
            return match(buf, start, targetEnd, null);
        }
        // The bytes before the end hold no LF after the line's start: the next call searches from the end.
        context.saveProgress(Progress.of(Progress.HEADERS, end - start, line - start, targetEnd - start, host,
                afterHost));
        return DetectionResult.needMore();
    }

    /** The request line is incomplete: wait for it, unless no more bytes will come. */
    private static DetectionResult incomplete(boolean last, DetectionContext context, long progress) {
        if (last) {
            return DetectionResult.noMatch();
        }
        context.saveProgress(progress);
        return DetectionResult.needMore();
    }

    /** Returns the offset of the request line of a request known valid: after the empty lines. */
    private static int requestLine(ByteBuf buf, int start) {
        int line = start;
        while (true) {
            int b = buf.getByte(line);
            if (b == '\r') {
                line += 2;
            } else if (b == '\n') {
                line++;
            } else {
                return line;
            }
        }
    }

    /** Returns whether the method that ends at {@code methodEnd} is {@code CONNECT}. */
    private static boolean isConnect(ByteBuf buf, int start, int methodEnd) {
        int method = methodEnd - CONNECT.length;
        if (method < start || method > start && buf.getByte(method - 1) != '\n') {
            return false;
        }
        for (int i = 0; i < CONNECT.length; i++) {
            if (buf.getByte(method + i) != CONNECT[i]) {
                return false;
            }
        }
        return true;
    }

    /** Origin-form starts with {@code /}, asterisk-form is {@code *}, absolute- and authority-form with a name. */
    private static boolean isTargetStart(int b) {
        return b == '/' || b == '*' || b == '[' || isAlpha(b) || b >= '0' && b <= '9';
    }

    /**
     * Returns the offset of the authority in an absolute-form target ({@code scheme "://" authority ...}, RFC 3986
     * §3), or -1 when the target is not one.
     */
    private static int absoluteFormAuthority(ByteBuf buf, int start, int end) {
        if (!isAlpha(buf.getByte(start))) {
            return -1;
        }
        int i = start + 1;
        while (i < end) {
            int c = buf.getByte(i);
            if (!isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
                break;
            }
            i++;
        }
        if (i + 3 > end || buf.getByte(i) != ':' || buf.getByte(i + 1) != '/' || buf.getByte(i + 2) != '/') {
            return -1;
        }
        return i + 3;
    }

    /** Returns the end of the authority that starts at {@code authority}: the first {@code / ? #}, or the end. */
    private static int authorityEnd(ByteBuf buf, int authority, int end) {
        int i = authority;
        while (i < end) {
            int c = buf.getByte(i);
            if (c == '/' || c == '?' || c == '#') {
                break;
            }
            i++;
        }
        return i;
    }

    /** Returns the host of an authority ({@code [userinfo@]host[:port]}), or {@code null}. */
    private static String authorityHost(ByteBuf buf, int start, int end) {
        int at = buf.indexOf(end, start, (byte) '@');
        return host(buf, at >= 0 ? at + 1 : start, end);
    }

    /** Returns the host of the {@code Host} header line at {@code line}, trimmed of whitespace, or {@code null}. */
    private static String hostHeader(ByteBuf buf, int line) {
        int start = line + 5; // "Host:"
        int end = buf.indexOf(start, buf.writerIndex(), (byte) '\n');
        if (end > start && buf.getByte(end - 1) == '\r') {
            end--;
        }
        while (start < end && isWhitespace(buf.getByte(start))) {
            start++;
        }
        while (end > start && isWhitespace(buf.getByte(end - 1))) {
            end--;
        }
        return host(buf, start, end);
    }

    /**
     * Returns the host of {@code name[:port]} or {@code [v6][:port]}, normalised, or {@code null} when it is not a
     * valid host (see the class javadoc).
     */
    static String host(ByteBuf buf, int start, int end) {
        if (start >= end) {
            return null;
        }
        int hostStart;
        int hostEnd;
        int portStart;
        if (buf.getByte(start) == '[') {
            hostStart = start + 1;
            hostEnd = buf.indexOf(hostStart, end, (byte) ']');
            if (hostEnd < 0 || !isIpv6(buf, hostStart, hostEnd)) {
                return null;
            }
            portStart = hostEnd + 1;
        } else {
            hostStart = start;
            int colon = buf.indexOf(start, end, (byte) ':');
            hostEnd = colon >= 0 ? colon : end;
            portStart = hostEnd;
            if (hostEnd > hostStart && buf.getByte(hostEnd - 1) == '.') {
                hostEnd--;
            }
            if (!isHostName(buf, hostStart, hostEnd)) {
                return null;
            }
        }
        if (portStart < end) {
            if (buf.getByte(portStart) != ':' || end - portStart - 1 > 5) {
                return null;
            }
            for (int i = portStart + 1; i < end; i++) {
                int c = buf.getByte(i);
                if (c < '0' || c > '9') {
                    return null;
                }
            }
        }
        int length = hostEnd - hostStart;
        byte[] name = new byte[length];
        for (int i = 0; i < length; i++) {
            int b = buf.getByte(hostStart + i);
            name[i] = (byte) (b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
        }
        return new String(name, StandardCharsets.ISO_8859_1);
    }

    /** Dot-separated labels of 1 to 63 letters, digits and hyphens, at most 253 bytes in all. */
    private static boolean isHostName(ByteBuf buf, int start, int end) {
        if (end <= start || end - start > 253) {
            return false;
        }
        int label = 0;
        for (int i = start; i < end; i++) {
            int c = buf.getByte(i);
            if (c == '.') {
                if (label == 0) {
                    return false;
                }
                label = 0;
            } else if (isAlpha(c) || c >= '0' && c <= '9' || c == '-') {
                if (++label > 63) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return label > 0;
    }

    /**
     * An IPv6 address (RFC 4291 §2.2): eight groups of 1 to 4 hex digits, or fewer around one {@code ::}, the last
     * two groups possibly written as an IPv4 address. No zone identifier.
     */
    private static boolean isIpv6(ByteBuf buf, int start, int end) {
        int groups = 0;
        boolean compressed = false;
        int i = start;
        if (end - start >= 2 && buf.getByte(i) == ':' && buf.getByte(i + 1) == ':') {
            compressed = true;
            i += 2;
            if (i == end) {
                return true;
            }
        }
        while (i < end) {
            int digits = 0;
            int j = i;
            while (j < end && hex(buf.getByte(j)) >= 0 && digits < 5) {
                j++;
                digits++;
            }
            if (j < end && buf.getByte(j) == '.') {
                // the last 32 bits as an IPv4 address
                return groups + 2 <= (compressed ? 7 : 8) && (compressed || groups + 2 == 8) && isIpv4(buf, i, end);
            }
            if (digits == 0 || digits > 4) {
                return false;
            }
            groups++;
            if (j == end) {
                break;
            }
            if (buf.getByte(j) != ':' || j + 1 == end) {
                return false;
            }
            i = j + 1;
            if (buf.getByte(i) == ':') {
                if (compressed) {
                    return false;
                }
                compressed = true;
                i++;
                if (i == end) {
                    break;
                }
            }
        }
        return compressed ? groups <= 7 : groups == 8;
    }

    private static boolean isIpv4(ByteBuf buf, int start, int end) {
        int parts = 0;
        int i = start;
        while (true) {
            int value = 0;
            int digits = 0;
            while (i < end && buf.getByte(i) >= '0' && buf.getByte(i) <= '9' && digits < 4) {
                value = value * 10 + buf.getByte(i) - '0';
                digits++;
                i++;
            }
            if (digits == 0 || digits > 3 || value > 255) {
                return false;
            }
            parts++;
            if (i == end) {
                return parts == 4;
            }
            if (buf.getByte(i) != '.' || parts == 4) {
                return false;
            }
            i++;
        }
    }

    private static int hex(int c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        int l = c | 0x20;
        return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
    }

    /** Returns whether the 4 bytes at {@code offset} are {@code host} in any case. */
    private static boolean isHost(ByteBuf buf, int offset) {
        return (buf.getByte(offset) | 0x20) == 'h' && (buf.getByte(offset + 1) | 0x20) == 'o'
                && (buf.getByte(offset + 2) | 0x20) == 's' && (buf.getByte(offset + 3) | 0x20) == 't';
    }

    /** A {@code tchar} of RFC 9110 §5.6.2. */
    private static boolean isTokenChar(int c) {
        return c >= 0 && c < 128 && TCHAR[c];
    }

    private static boolean isAlpha(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t';
    }

    /** An unreserved character of RFC 3986 §2.3. */
    private static boolean isUnreserved(int c) {
        return isAlpha(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~';
    }

    /** Builds the match of a request whose request line ends its target at {@code targetEnd}. */
    private static DetectionResult match(ByteBuf buf, int start, int targetEnd, String host) {
        int line = requestLine(buf, start);
        int methodEnd = buf.indexOf(line, targetEnd, (byte) ' ');
        int target = methodEnd + 1;
        String version = buf.getByte(targetEnd + 1 + VERSION_PREFIX.length) == '0' ? HTTP_1_0 : HTTP_1_1;
        String path = null;
        int first = buf.getByte(target);
        if (first == '/') {
            path = path(buf, target, pathEnd(buf, target, targetEnd));
        } else if (first != '*' && !isConnect(buf, start, methodEnd)) {
            int authority = absoluteFormAuthority(buf, target, targetEnd);
            if (authority >= 0) {
                int from = authorityEnd(buf, authority, targetEnd);
                path = from < targetEnd && buf.getByte(from) == '/' ? path(buf, from, pathEnd(buf, from, targetEnd))
                        : "/";
            }
        }
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(AttributeKey.HTTP_METHOD, method(buf, line, methodEnd))
                .put(AttributeKey.HTTP_PATH, path)
                .put(AttributeKey.HTTP_VERSION, version)
                .put(AttributeKey.HTTP_HOST, host)
                .put(AttributeKey.HTTP_TARGET, buf.toString(target, targetEnd - target, StandardCharsets.ISO_8859_1))
                .build());
    }

    /** Returns the method, one of the {@link #METHOD_NAMES} constants when it is one. */
    private static String method(ByteBuf buf, int start, int end) {
        int length = end - start;
        for (String name : METHOD_NAMES) {
            if (name.length() == length) {
                int i = 0;
                while (i < length && buf.getByte(start + i) == name.charAt(i)) {
                    i++;
                }
                if (i == length) {
                    return name;
                }
            }
        }
        return buf.toString(start, length, StandardCharsets.ISO_8859_1);
    }

    /** Returns where the path that starts at {@code start} ends: at the first {@code ?} or {@code #}, or the end. */
    private static int pathEnd(ByteBuf buf, int start, int end) {
        for (int i = start; i < end; i++) {
            int c = buf.getByte(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return end;
    }

    /**
     * Returns the path from {@code start} (a {@code /}) to {@code end}, normalised as the class javadoc says, or
     * {@code null} when a {@code %} is not followed by two hex digits.
     */
    static String path(ByteBuf buf, int start, int end) {
        boolean plain = true;
        for (int i = start; i < end && plain; i++) {
            int c = buf.getByte(i);
            plain = c != '%' && !(c == '.' && buf.getByte(i - 1) == '/');
        }
        if (plain) {
            return buf.toString(start, end - start, StandardCharsets.ISO_8859_1);
        }
        // Decoding, removing dot segments and upper-casing hex digits never make the path longer.
        char[] out = new char[end - start];
        int o = 0;
        int i = start;
        while (i < end) {
            int segment = i + 1; // after the '/'
            int segmentEnd = buf.indexOf(segment, end, (byte) '/');
            if (segmentEnd < 0) {
                segmentEnd = end;
            }
            int mark = o;
            out[o++] = '/';
            for (int j = segment; j < segmentEnd; j++) {
                int c = buf.getUnsignedByte(j);
                if (c == '%') {
                    int high = j + 2 < segmentEnd ? hex(buf.getByte(j + 1)) : -1;
                    int low = high >= 0 ? hex(buf.getByte(j + 2)) : -1;
                    if (low < 0) {
                        return null;
                    }
                    int decoded = high << 4 | low;
                    if (isUnreserved(decoded)) {
                        out[o++] = (char) decoded;
                    } else {
                        out[o++] = '%';
                        out[o++] = HEX[high];
                        out[o++] = HEX[low];
                    }
                    j += 2;
                } else {
                    out[o++] = (char) c;
                }
            }
            int length = o - mark - 1;
            boolean dot = length == 1 && out[mark + 1] == '.';
            boolean dotDot = length == 2 && out[mark + 1] == '.' && out[mark + 2] == '.';
            if (dot || dotDot) {
                o = mark;
                if (dotDot) {
                    // remove the segment before, with its '/'
                    while (o > 0 && out[o - 1] != '/') {
                        o--;
                    }
                    o = Math.max(0, o - 1);
                }
                if (segmentEnd == end) {
                    out[o++] = '/';
                }
            }
            i = segmentEnd;
        }
        return o == 0 ? "/" : new String(out, 0, o);
    }

    /**
     * Packs where a call stopped into the {@code long} that {@link DetectionContext#saveProgress(long)} keeps, {@code 0}
     * meaning "from the beginning". Offsets are from the reader index, below {@link #MAX_BYTES}, 15 bits each:
     * <ul>
     *   <li>bits 0-14: in {@link #TARGET}, the next byte of the request target to check; in {@link #HEADERS}, where
     *       the search for the LF that ends the current line resumes;</li>
     *   <li>bits 15-29: in {@link #TARGET} and {@link #VERSION}, the end of the method; in {@link #HEADERS}, the
     *       start of the first header line not completely received;</li>
     *   <li>bits 30-44: in {@link #VERSION} and {@link #HEADERS}, the end of the request target;</li>
     *   <li>bits 45-59: in {@link #HEADERS}, {@link #NO_HOST}, {@link #BAD_HOST} or the start of the one Host line;
     *       bits 60-61: the stage; bit 62: in {@link #HEADERS}, whether the last complete line was a Host line.</li>
     * </ul>
     * The method and the empty lines before it, at most a few dozen bytes, are read again when the request matches.
     */
    private static final class Progress {

        /** Nothing saved: the method is not complete yet (at most a few bytes to read again). */
        static final int START = 0;
        /** The method is known; the request target is being read. */
        static final int TARGET = 1;
        /** The request target is known; the version and the end of the request line are next. */
        static final int VERSION = 2;
        /** The request line is complete and gives no host; the header lines are being read. */
        static final int HEADERS = 3;

        private static final int BITS = 15;
        private static final int MASK = (1 << BITS) - 1;

        private Progress() {
        }

        static long of(int stage, int position, int line, int targetEnd, int host, boolean afterHost) {
            return position | (long) line << BITS | (long) targetEnd << 2 * BITS | (long) host << 3 * BITS
                    | (long) stage << 4 * BITS | (afterHost ? 1L << 4 * BITS + 2 : 0);
        }

        static int position(long progress) {
            return (int) progress & MASK;
        }

        static int line(long progress) {
            return (int) (progress >>> BITS) & MASK;
        }

        static int targetEnd(long progress) {
            return (int) (progress >>> 2 * BITS) & MASK;
        }

        static int host(long progress) {
            return (int) (progress >>> 3 * BITS) & MASK;
        }

        static int stage(long progress) {
            return (int) (progress >>> 4 * BITS) & 3;
        }

        static boolean afterHost(long progress) {
            return (progress >>> 4 * BITS + 2 & 1) != 0;
        }
    }
}
