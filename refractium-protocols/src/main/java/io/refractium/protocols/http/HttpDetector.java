package io.refractium.protocols.http;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Detects an HTTP/1.0 or HTTP/1.1 request from its request line (RFC 9112 §3) and reports the method, the request
 * target, the version and the host.
 *
 * <p>The request line is {@code method SP request-target SP HTTP-version}, ended by CR LF or a bare LF. The method
 * is one of the RFC 9110 §9 methods ({@code GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE}), {@code PATCH}
 * (RFC 5789), the WebDAV and related methods ({@code PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK} from RFC 4918,
 * {@code REPORT} and {@code MKCALENDAR} from RFC 3253 and RFC 4791, {@code SEARCH} from RFC 5323, {@code ACL} from
 * RFC 3744, {@code LINK} and {@code UNLINK}), {@code QUERY}, {@code PURGE}, and the UPnP methods {@code M-SEARCH},
 * {@code NOTIFY}, {@code SUBSCRIBE}, {@code UNSUBSCRIBE}; method names are case-sensitive (RFC 9110 §9.1). The
 * request target is non-empty and holds no whitespace or control characters; the version is {@code HTTP/1.0} or
 * {@code HTTP/1.1}. The HTTP/2 connection preface ({@code PRI * HTTP/2.0}) is not an HTTP/1 request: see
 * {@link io.refractium.protocols.http2.Http2Detector}. The detector answers {@link DetectionResult#noMatch() NO_MATCH} on the first byte
 * that breaks these rules, so on the first byte for anything that cannot begin a known method.
 *
 * <p>When does it match? The host of a request is, by RFC 9112 §3.2 and §7.2, the authority of an absolute-form
 * target ({@code GET http://host:port/path HTTP/1.1}) or of a {@code CONNECT} target ({@code host:port}), else the
 * {@code Host} header. So the detector matches:
 * <ul>
 *   <li>at the end of the request line when the target gives the host;</li>
 *   <li>else at the end of the first {@code Host} header line (the name is case-insensitive, RFC 9110 §5.1);</li>
 *   <li>else at the end of the header section (an empty line), without a host (HTTP/1.0 requests may have none);</li>
 *   <li>else, with a complete request line, at the first header line that is not {@code name: value} (the server
 *       will answer 400, but the bytes are HTTP), when the client has finished sending
 *       ({@link DetectionContext#isInputComplete()}), or when {@value #MAX_BYTES} bytes have arrived without a
 *       decision: the request line says HTTP, the headers are just too long to find a host in.</li>
 * </ul>
 *
 * <p>Attributes of a match: {@link AttributeKey#HTTP_METHOD}, {@link AttributeKey#HTTP_PATH} (the request target as
 * sent, one character per byte), {@link AttributeKey#HTTP_VERSION}, and {@link AttributeKey#HTTP_HOST} when known:
 * trimmed of whitespace, without the port or user information, lower-case, without a trailing dot, and for an IPv6
 * literal the address without its brackets ({@code [::1]:8080} gives {@code ::1}). A host holding bytes outside
 * printable ASCII, or an empty one, is left out.
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

    private static final String[] METHOD_NAMES = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
        "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "MKCALENDAR", "ACL",
        "PURGE", "LINK", "UNLINK", "QUERY",
        "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
    };
    private static final int CONNECT = 5;
    private static final byte[][] METHODS = new byte[METHOD_NAMES.length][];
    /** For each ASCII byte, the indexes of the methods that start with it, or {@code null}. */
    private static final int[][] METHODS_BY_FIRST_BYTE = new int[128][];

    static {
        for (int i = 0; i < METHOD_NAMES.length; i++) {
            METHODS[i] = METHOD_NAMES[i].getBytes(StandardCharsets.US_ASCII);
            int first = METHODS[i][0];
            int[] previous = METHODS_BY_FIRST_BYTE[first];
            int[] next = previous == null ? new int[1] : Arrays.copyOf(previous, previous.length + 1);
            next[next.length - 1] = i;
            METHODS_BY_FIRST_BYTE[first] = next;
        }
    }

    private static final byte[] VERSION_PREFIX = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    private static final String HTTP_1_0 = "HTTP/1.0";
    private static final String HTTP_1_1 = "HTTP/1.1";
    private static final int NEED_MORE = -1;
    private static final int NO_MATCH = -2;

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
     * @param context tells whether the client has finished sending, and where the previous call stopped
     * @return {@code MATCH} with method, target, version and host (when known), {@code NEED_MORE} while the bytes
     *         are a valid prefix of a request that has not shown its host yet, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        boolean capped = buf.writerIndex() - start >= MAX_BYTES;
        int end = capped ? start + MAX_BYTES : buf.writerIndex();
        if (start >= end) {
            return DetectionResult.needMore();
        }

        long progress = context.progress();
        int stage = Progress.stage(progress);
        int method;
        if (stage == Progress.START) {
            method = method(buf, start, end);
            if (method < 0) {
                return method == NO_MATCH || capped ? DetectionResult.noMatch() : DetectionResult.needMore();
            }
        } else {
            method = Progress.method(progress);
        }
        int target = start + METHODS[method].length + 1;
        if (stage == Progress.HEADERS) {
            int targetEnd = start + Progress.targetEnd(progress);
            String version = buf.getByte(targetEnd + 1 + VERSION_PREFIX.length) == '0' ? HTTP_1_0 : HTTP_1_1;
            return headers(buf, start, end, capped, method, target, targetEnd, version, start + Progress.line(progress),
                    start + Progress.position(progress), context);
        }

        int targetEnd;
        if (stage == Progress.VERSION) {
            targetEnd = start + Progress.targetEnd(progress);
        } else {
            // request-target: at least one visible byte, no whitespace or control characters
            int t = stage == Progress.TARGET ? start + Progress.position(progress) : target;
            while (true) {
                if (t >= end) {
                    return incomplete(capped, context, Progress.of(Progress.TARGET, method, 0, 0, t - start));
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
        long versionProgress = Progress.of(Progress.VERSION, method, targetEnd - start, 0, 0);

        // HTTP-version, then CR LF or LF
        int v = targetEnd + 1;
        for (int i = 0; i < VERSION_PREFIX.length; i++) {
            if (v + i >= end) {
                return incomplete(capped, context, versionProgress);
            }
            if (buf.getByte(v + i) != VERSION_PREFIX[i]) {
                return DetectionResult.noMatch();
            }
        }
        int minor = v + VERSION_PREFIX.length;
        if (minor >= end) {
            return incomplete(capped, context, versionProgress);
        }
        int m = buf.getByte(minor);
        if (m != '0' && m != '1') {
            return DetectionResult.noMatch();
        }
        String version = m == '0' ? HTTP_1_0 : HTTP_1_1;
        int eol = minor + 1;
        if (eol >= end) {
            return incomplete(capped, context, versionProgress);
        }
        int b = buf.getByte(eol);
        if (b == '\r') {
            if (++eol >= end) {
                return incomplete(capped, context, versionProgress);
            }
            b = buf.getByte(eol);
        }
        if (b != '\n') {
            return DetectionResult.noMatch();
        }
        int headers = eol + 1;

        // The host from an absolute-form or authority-form target wins over the Host header (RFC 9112 §3.2).
        String host = null;
        if (method == CONNECT) {
            host = authorityHost(buf, target, targetEnd);
        } else {
            int authority = absoluteFormAuthority(buf, target, targetEnd);
            if (authority >= 0) {
                int authorityEnd = authority;
                while (authorityEnd < targetEnd) {
                    int c = buf.getByte(authorityEnd);
                    if (c == '/' || c == '?' || c == '#') {
                        break;
                    }
                    authorityEnd++;
                }
                host = authorityHost(buf, authority, authorityEnd);
            }
        }
        if (host != null) {
            return match(buf, method, target, targetEnd, version, host);
        }
        return headers(buf, start, end, capped, method, target, targetEnd, version, headers, headers, context);
    }

    /**
     * Searches the header lines for the host, from the line that starts at {@code line}, in which no LF comes before
     * {@code from}, until the {@code Host} header or the end of the header section; when neither has arrived, saves
     * where the search stopped.
     */
    private static DetectionResult headers(ByteBuf buf, int start, int end, boolean capped, int method, int target,
                                           int targetEnd, String version, int line, int from,
                                           DetectionContext context) {
        while (line < end) {
            int lf = buf.indexOf(Math.max(line, from), end, (byte) '\n');
            if (lf < 0) {
                break;
            }
            int lineEnd = lf > line && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (lineEnd == line) {
                return match(buf, method, target, targetEnd, version, null);
            }
            int first = buf.getByte(line);
            if (first != ' ' && first != '\t') { // else an obsolete line folding (RFC 9112 §5.2): skip it
                int colon = line;
                while (colon < lineEnd && isTokenChar(buf.getByte(colon))) {
                    colon++;
                }
                if (colon == line || colon == lineEnd || buf.getByte(colon) != ':') {
                    return match(buf, method, target, targetEnd, version, null);
                }
                if (colon - line == 4 && isHost(buf, line)) {
                    return match(buf, method, target, targetEnd, version, hostHeader(buf, colon + 1, lineEnd));
                }
            }
            line = lf + 1;
        }
        if (capped || context.isInputComplete()) {
            return match(buf, method, target, targetEnd, version, null);
        }
        // The bytes before the end hold no LF after the line's start: the next call searches from the end.
        context.saveProgress(Progress.of(Progress.HEADERS, method, targetEnd - start, line - start, end - start));
        return DetectionResult.needMore();
    }

    /** The request line is incomplete: wait for it, unless no more bytes will come or the cap is reached. */
    private static DetectionResult incomplete(boolean capped, DetectionContext context, long progress) {
        if (capped || context.isInputComplete()) {
            return DetectionResult.noMatch();
        }
        context.saveProgress(progress);
        return DetectionResult.needMore();
    }

    /** Returns the index of the method followed by SP at {@code start}, {@link #NEED_MORE} or {@link #NO_MATCH}. */
    private static int method(ByteBuf buf, int start, int end) {
        int first = buf.getByte(start);
        int[] candidates = first > 0 ? METHODS_BY_FIRST_BYTE[first] : null;
        if (candidates == null) {
            return NO_MATCH;
        }
        boolean prefix = false;
        for (int index : candidates) {
            byte[] name = METHODS[index];
            int i = 1;
            while (i < name.length && start + i < end && buf.getByte(start + i) == name[i]) {
                i++;
            }
            if (i < name.length) {
                prefix |= start + i >= end;
            } else if (start + i >= end) {
                prefix = true;
            } else if (buf.getByte(start + i) == ' ') {
                return index;
            }
        }
        return prefix ? NEED_MORE : NO_MATCH;
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

    /** Returns the host of an authority ({@code [userinfo@]host[:port]}), or {@code null}. */
    private static String authorityHost(ByteBuf buf, int start, int end) {
        int at = buf.indexOf(end, start, (byte) '@');
        return host(buf, at >= 0 ? at + 1 : start, end);
    }

    /** Returns the host of a {@code Host} header value, trimmed of whitespace, or {@code null}. */
    private static String hostHeader(ByteBuf buf, int start, int end) {
        while (start < end && isWhitespace(buf.getByte(start))) {
            start++;
        }
        while (end > start && isWhitespace(buf.getByte(end - 1))) {
            end--;
        }
        return host(buf, start, end);
    }

    /** Returns the host of {@code host[:port]} or {@code [v6][:port]}, normalized, or {@code null}. */
    private static String host(ByteBuf buf, int start, int end) {
        if (start >= end) {
            return null;
        }
        int hostStart = start;
        int hostEnd;
        if (buf.getByte(start) == '[') {
            hostStart = start + 1;
            hostEnd = buf.indexOf(hostStart, end, (byte) ']');
            if (hostEnd < 0) {
                return null;
            }
        } else {
            int colon = buf.indexOf(end, start, (byte) ':');
            hostEnd = colon >= 0 ? colon : end;
        }
        if (hostEnd > hostStart && buf.getByte(hostEnd - 1) == '.') {
            hostEnd--;
        }
        int length = hostEnd - hostStart;
        if (length <= 0) {
            return null;
        }
        byte[] name = new byte[length];
        for (int i = 0; i < length; i++) {
            int b = buf.getByte(hostStart + i);
            if (b < 0x21 || b > 0x7e) {
                return null;
            }
            name[i] = (byte) (b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
        }
        return new String(name, StandardCharsets.ISO_8859_1);
    }

    /** Returns whether the 4 bytes at {@code offset} are {@code host} in any case. */
    private static boolean isHost(ByteBuf buf, int offset) {
        return (buf.getByte(offset) | 0x20) == 'h' && (buf.getByte(offset + 1) | 0x20) == 'o'
                && (buf.getByte(offset + 2) | 0x20) == 's' && (buf.getByte(offset + 3) | 0x20) == 't';
    }

    /** A {@code tchar} of RFC 9110 §5.6.2. */
    private static boolean isTokenChar(int c) {
        if (isAlpha(c) || c >= '0' && c <= '9') {
            return true;
        }
        switch (c) {
            case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
            case '^': case '_': case '`': case '|': case '~':
                return true;
            default:
                return false;
        }
    }

    private static boolean isAlpha(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t';
    }

    private static DetectionResult match(ByteBuf buf, int method, int target, int targetEnd, String version,
                                         String host) {
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(AttributeKey.HTTP_METHOD, METHOD_NAMES[method])
                .put(AttributeKey.HTTP_PATH, buf.toString(target, targetEnd - target, StandardCharsets.ISO_8859_1))
                .put(AttributeKey.HTTP_VERSION, version)
                .put(AttributeKey.HTTP_HOST, host)
                .build());
    }

    /**
     * Packs where a call stopped into the {@code long} that {@link DetectionContext#saveProgress(long)} keeps, {@code 0}
     * meaning "from the beginning". Offsets are from the reader index, below {@link #MAX_BYTES}:
     * <ul>
     *   <li>bits 0-15: in {@link #TARGET}, the next byte of the request target to check; in {@link #HEADERS}, where
     *       the search for the LF that ends the current line resumes;</li>
     *   <li>bits 16-31: in {@link #HEADERS}, the start of the first header line not completely received;</li>
     *   <li>bits 32-47: in {@link #VERSION} and {@link #HEADERS}, the end of the request target;</li>
     *   <li>bits 48-52: the method's index; bits 53-54: the stage.</li>
     * </ul>
     */
    private static final class Progress {

        /** Nothing saved: the method is not complete yet (at most a few bytes to read again). */
        static final int START = 0;
        /** The method is known; the request target is being read. */
        static final int TARGET = 1;
        /** The request target is known; the version and the end of the request line are next. */
        static final int VERSION = 2;
        /** The request line is complete and gives no host; the header lines are being searched. */
        static final int HEADERS = 3;

        private Progress() {
        }

        static long of(int stage, int method, int targetEnd, int line, int position) {
            return position | (long) line << 16 | (long) targetEnd << 32 | (long) method << 48 | (long) stage << 53;
        }

        static int position(long progress) {
            return (int) progress & 0xffff;
        }

        static int line(long progress) {
            return (int) (progress >>> 16) & 0xffff;
        }

        static int targetEnd(long progress) {
            return (int) (progress >>> 32) & 0xffff;
        }

        static int method(long progress) {
            return (int) (progress >>> 48) & 0x1f;
        }

        static int stage(long progress) {
            return (int) (progress >>> 53) & 3;
        }
    }
}
