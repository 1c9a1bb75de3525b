package io.refractium.protocols.http2;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects cleartext HTTP/2 with prior knowledge (h2c, and so gRPC without TLS) from the client connection preface
 * {@code "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"} (RFC 9113 §3.4), and reads the first request's host, method and path
 * from its HEADERS.
 *
 * <p>The preface is compared byte by byte: {@link DetectionResult#noMatch() NO_MATCH} on the first byte that
 * differs, and never after it. Then the detector walks the frames (RFC 9113 §4.1): the client's SETTINGS first,
 * then any frames but HEADERS skipped (WINDOW_UPDATE, PING, PRIORITY, PRIORITY_UPDATE and unknown types), until the
 * first HEADERS frame on a client stream (odd); its PADDED and PRIORITY flags are honoured and its CONTINUATION
 * frames followed until END_HEADERS. The header block is then decoded (HPACK, RFC 7541: static and dynamic table,
 * all literal forms, table size updates, Huffman) for {@code :authority} (else the {@code host} field),
 * {@code :method}, {@code :path} and {@code content-type}.
 *
 * <p>When does it match?
 * <ul>
 *   <li>at the end of the first header block, with the attributes below;</li>
 *   <li>on the last call ({@link DetectionContext#isLastCall()}: deadline, peek cap, the {@value #MAX_BYTES} bytes of
 *       {@link #maxBytes()}, or the client's end of input) once the preface is complete: an idle client that sent
 *       its preface and SETTINGS but no request yet is still HTTP/2, with {@link AttributeKey#HTTP_VERSION} alone;
 *       a header block cut by the end of the bytes gives the fields that arrived whole before the cut (the pseudo
 *       fields come first, RFC 9113 §8.3);</li>
 *   <li>at once, with {@code HTTP_VERSION} alone, when the frames after the preface break RFC 9113 in a way the
 *       server will answer with a connection error: a first frame that is not SETTINGS, a frame longer than the
 *       16,384 bytes the client may send before it knows the server's settings, DATA, CONTINUATION, PUSH_PROMISE or
 *       GOAWAY before the first HEADERS, HEADERS on stream 0 or an even stream, a CONTINUATION of another stream or
 *       another frame inside the header block, padding longer than the frame; and a malformed header block (HPACK
 *       decoding error: index 0 or past the tables, bad Huffman padding or EOS, a size update after a field or above
 *       4,096, an integer or string cut at the end of the block). The preface alone says the client speaks HTTP/2:
 *       the bytes go to the {@code http2} route, without host, and the server there answers with a GOAWAY.</li>
 * </ul>
 *
 * <p>Attributes, with the same keys as the HTTP/1 detector so that host and path routes work for h2c as for HTTP/1:
 * {@link AttributeKey#HTTP_VERSION} {@code "HTTP/2.0"}; {@link AttributeKey#HTTP_METHOD} and
 * {@link AttributeKey#HTTP_PATH} as sent (one character per byte); {@link AttributeKey#HTTP_HOST} from
 * {@code :authority}, else from {@code host}, normalized as HTTP/1 does (lower-case, without user information, port
 * and trailing dot, an IPv6 literal without its brackets, left out when empty or outside printable ASCII); and
 * {@link #GRPC} when the content type is {@code application/grpc}, alone or followed by {@code +} or {@code ;}.
 *
 * <p>A client that sends its preface and SETTINGS and then waits for the server's SETTINGS before its first request
 * (as gRPC clients commonly do) is matched only on the last call, at the detection deadline; for such clients, when
 * no route needs the host or path, register {@link #prefaceOnly()} instead.
 *
 * <p>Each call resumes where the previous one on the same connection stopped ({@link DetectionContext#progress()}):
 * at the next frame header before the HEADERS, or at the first frame of the header block not completely received;
 * the block is decoded once, when complete. So frames that arrive one byte per read cost time linear in their
 * length.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters and never moves its indexes. The header
 * block is copied into a per-thread scratch array and decoded there, so a match allocates only its attributes.
 */
public final class Http2Detector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "http2";

    /**
     * The most bytes the detector reads, {@value}: the preface, the client's first frames, and a HEADERS frame of
     * the largest size a client may send before it knows the server's settings, with room for a CONTINUATION.
     */
    public static final int MAX_BYTES = 32 * 1024;

    /**
     * Present, {@code true}, when the first request is a gRPC call: its {@code content-type} is
     * {@code application/grpc} (gRPC over HTTP/2, {@code PROTOCOL-HTTP2.md}).
     */
    public static final AttributeKey<Boolean> GRPC = AttributeKey.of("http2.grpc", Boolean.class);

    static final String HTTP_2_0 = "HTTP/2.0";

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int PREFACE_LENGTH = 24;
    private static final int FRAME_HEADER_LENGTH = 9;
    /** SETTINGS_MAX_FRAME_SIZE before the server says otherwise (RFC 9113 §6.5.2). */
    private static final int MAX_FRAME_SIZE = 16_384;

    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int PUSH_PROMISE = 0x5;
    private static final int SETTINGS = 0x4;
    private static final int GOAWAY = 0x7;
    private static final int CONTINUATION = 0x9;
    private static final int FLAG_ACK = 0x1;
    private static final int FLAG_END_HEADERS = 0x4;
    private static final int FLAG_PADDED = 0x8;
    private static final int FLAG_PRIORITY = 0x20;

    /** HTTP/2 without attributes of the request. */
    private static final DetectionResult HTTP2 = DetectionResult.match(
            ProtocolAttributes.builder().put(AttributeKey.HTTP_VERSION, HTTP_2_0).build());

    private final boolean readRequest;

    /** Creates the detector that reads the first request; the one {@code ServiceLoader} discovery creates. */
    public Http2Detector() {
        this(true);
    }

    private Http2Detector(boolean readRequest) {
        this.readRequest = readRequest;
    }

    /**
     * Returns a detector that matches at the end of the preface, with {@link AttributeKey#HTTP_VERSION} alone, and
     * reads no frames: for clients that wait for the server's SETTINGS before they send a request (gRPC clients
     * commonly do), which the default detector would hold until the detection deadline, when no route needs the
     * host or path of h2c requests. Register it explicitly, in place of the discovered one.
     *
     * @return the detector, stateless and thread-safe
     */
    public static Http2Detector prefaceOnly() {
        return new Http2Detector(false);
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
     * Returns {@value #MAX_BYTES}, or 24 (the preface) for {@link #prefaceOnly()}.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return readRequest ? MAX_BYTES : PREFACE_LENGTH;
    }

    /**
     * Checks the preface, walks the frames to the first header block and decodes it, from where the previous call
     * on the same connection stopped ({@link DetectionContext#progress()}), and saves where this one stops.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether this is the last call, and where the previous call stopped
     * @return {@code MATCH} with the attributes found, {@code NEED_MORE} while the bytes are the preface or a prefix
     *         of it, followed by frames that have not shown the first header block whole, {@code NO_MATCH} when
     *         they are not the preface
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int available = buf.writerIndex() - start;
        boolean capped = available >= MAX_BYTES;
        int end = start + Math.min(available, MAX_BYTES);
        boolean last = capped || context.isLastCall() || context.isInputComplete();

        long progress = context.progress();
        int stage = Progress.stage(progress);
        if (stage == Progress.BLOCK) {
            return block(buf, start, end, last, start + Progress.first(progress), start + Progress.second(progress),
                    context);
        }
        int frame;
        if (stage == Progress.FRAMES) {
            frame = start + Progress.first(progress);
        } else {
            int n = Math.min(available, PREFACE_LENGTH);
            for (int i = 0; i < n; i++) {
                if (buf.getByte(start + i) != PREFACE[i]) {
                    return DetectionResult.noMatch();
                }
            }
            if (n < PREFACE_LENGTH) {
                return last ? DetectionResult.noMatch() : DetectionResult.needMore();
            }
            if (!readRequest) {
                return HTTP2;
            }
            frame = start + PREFACE_LENGTH;
        }

        while (true) {
            if (frame + FRAME_HEADER_LENGTH > end) {
                return waitFor(last, context, Progress.of(Progress.FRAMES, frame - start, 0));
            }
            int length = buf.getUnsignedMedium(frame);
            int type = buf.getUnsignedByte(frame + 3);
            int flags = buf.getUnsignedByte(frame + 4);
            int stream = buf.getInt(frame + 5) & 0x7fffffff;
            if (length > MAX_FRAME_SIZE) {
                return HTTP2;
            }
            if (frame == start + PREFACE_LENGTH
                    && (type != SETTINGS || stream != 0 || (flags & FLAG_ACK) != 0 || length % 6 != 0)) {
                return HTTP2;
            }
            if (type == HEADERS) {
                if (stream == 0 || (stream & 1) == 0) {
                    return HTTP2;
                }
                return block(buf, start, end, last, frame, frame, context);
            }
            if (type == DATA || type == CONTINUATION || type == PUSH_PROMISE || type == GOAWAY) {
                return HTTP2;
            }
            frame += FRAME_HEADER_LENGTH + length;
        }
    }

    /**
     * Follows the header block that starts with the HEADERS frame at {@code headers}, from the frame at
     * {@code frame} (the HEADERS frame or one of its CONTINUATION frames, whose header is the first not checked
     * yet), and decodes it when complete.
     */
    private static DetectionResult block(ByteBuf buf, int start, int end, boolean last, int headers, int frame,
                                         DetectionContext context) {
        int stream = buf.getInt(headers + 5) & 0x7fffffff;
        while (true) {
            if (frame + FRAME_HEADER_LENGTH > end) {
                break;
            }
            int length = buf.getUnsignedMedium(frame);
            if (length > MAX_FRAME_SIZE) {
                return HTTP2;
            }
            if (frame != headers
                    && (buf.getUnsignedByte(frame + 3) != CONTINUATION
                        || (buf.getInt(frame + 5) & 0x7fffffff) != stream)) {
                return HTTP2;
            }
            int frameEnd = frame + FRAME_HEADER_LENGTH + length;
            if (frameEnd > end) {
                break;
            }
            if ((buf.getUnsignedByte(frame + 4) & FLAG_END_HEADERS) != 0) {
                return decode(buf, headers, frameEnd, true);
            }
            frame = frameEnd;
        }
        if (last) {
            return decode(buf, headers, end, false);
        }
        context.saveProgress(Progress.of(Progress.BLOCK, headers - start, frame - start));
        return DetectionResult.needMore();
    }

    /**
     * Copies the header block fragments of the frames from {@code headers} to {@code end} (the end of the last
     * frame of the block, or of the bytes received when {@code complete} is {@code false}) and decodes them.
     */
    private static DetectionResult decode(ByteBuf buf, int headers, int end, boolean complete) {
        HpackDecoder decoder = HpackDecoder.current();
        int frame = headers;
        while (frame + FRAME_HEADER_LENGTH <= end) {
            int payload = frame + FRAME_HEADER_LENGTH;
            int payloadEnd = payload + buf.getUnsignedMedium(frame);
            int fragment = payload;
            int fragmentEnd = payloadEnd;
            if (frame == headers) {
                int flags = buf.getUnsignedByte(frame + 4);
                if ((flags & FLAG_PADDED) != 0) {
                    if (payload >= end) {
                        break;
                    }
                    fragmentEnd -= buf.getUnsignedByte(payload);
                    fragment++;
                }
                if ((flags & FLAG_PRIORITY) != 0) {
                    fragment += 5;
                }
                if (fragment > fragmentEnd) {
                    return HTTP2; // padding and priority longer than the frame (RFC 9113 §6.2)
                }
            }
            int length = Math.min(fragmentEnd, end) - fragment;
            if (length > 0) {
                decoder.append(buf, fragment, length);
            }
            frame = payloadEnd;
        }
        if (decoder.decode(complete) != HpackDecoder.OK) {
            return HTTP2;
        }
        return DetectionResult.match(decoder.attributes());
    }

    /** The bytes end before the first header block: wait for more, unless none will come. */
    private static DetectionResult waitFor(boolean last, DetectionContext context, long progress) {
        if (last) {
            return HTTP2;
        }
        context.saveProgress(progress);
        return DetectionResult.needMore();
    }

    /**
     * Packs where a call stopped into the {@code long} that {@link DetectionContext#saveProgress(long)} keeps,
     * {@code 0} meaning "from the beginning". Offsets are from the reader index, below {@link #MAX_BYTES}:
     * <ul>
     *   <li>bits 0-23: in {@link #FRAMES}, the next frame header to read; in {@link #BLOCK}, the HEADERS frame;</li>
     *   <li>bits 24-47: in {@link #BLOCK}, the frame of the header block not completely received;</li>
     *   <li>bits 48-49: the stage.</li>
     * </ul>
     */
    private static final class Progress {

        /** Nothing saved: the preface is not complete yet (at most 24 bytes to read again). */
        static final int START = 0;
        /** The preface is complete; frames before the first HEADERS are being skipped. */
        static final int FRAMES = 1;
        /** The first HEADERS frame is known; its block is not complete yet. */
        static final int BLOCK = 2;

        private Progress() {
        }

        static long of(int stage, int first, int second) {
            return first | (long) second << 24 | (long) stage << 48;
        }

        static int first(long progress) {
            return (int) progress & 0xffffff;
        }

        static int second(long progress) {
            return (int) (progress >>> 24) & 0xffffff;
        }

        static int stage(long progress) {
            return (int) (progress >>> 48) & 3;
        }
    }
}
