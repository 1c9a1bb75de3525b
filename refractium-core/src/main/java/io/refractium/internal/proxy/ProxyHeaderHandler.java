package io.refractium.internal.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.ProxyProtocolMode;
import io.refractium.ProxyProtocolVersion;
import io.refractium.hook.ProxyInfo;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.engine.ConnectionState;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives the PROXY protocol header (v1 or v2) in front of a connection's bytes, before detection. It reads until
 * the first bytes show whether they start with a PROXY signature ({@code "PROXY "} or the 12-byte v2 signature);
 * only then is Netty's {@link HAProxyMessageDecoder} put in front of it to decode the header. The real client
 * address of a {@code PROXY} command replaces the socket address in the {@link ConnectionState}; a {@code LOCAL}
 * command, or an {@code UNKNOWN} or non-TCP family, keeps the socket address. The header itself is recorded on the
 * connection as a {@link ProxyInfo}, its TLVs copied.
 *
 * <p>Refusals, each counted and reported through the {@link ProxyGate} with its {@link RefusalReason}: a header from
 * a source outside the trusted networks ({@code PROXY_HEADER_UNTRUSTED}, also at once when a listener that requires
 * a header is reached from such a source), a missing header on a listener that requires one
 * ({@code PROXY_HEADER_MISSING}), a malformed header ({@code PROXY_HEADER_MALFORMED}), no complete header by the
 * detection deadline ({@code PROXY_HEADER_TIMEOUT}). Once the header is consumed (or, on an optional listener, found
 * absent), the gate checks the per-address admission limits against the client address, real or not; a refusal
 * there closes the connection too. Otherwise this handler removes itself and runs its callback, which starts
 * detection; the header's bytes are never passed on, the bytes after it are.
 *
 * <p>Buffer ownership: bytes read before the decision are held here and released in {@link #handlerRemoved} unless
 * passed on; each {@link HAProxyMessage} is released here, after its TLVs were copied.
 */
public final class ProxyHeaderHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ProxyHeaderHandler.class);
    private static final byte[] V1_SIGNATURE = {'P', 'R', 'O', 'X', 'Y', ' '};
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private enum Signature { NEED_MORE, NONE, FOUND }

    private final ConnectionState conn;
    private final ProxyAcceptance acceptance;
    private final long timeoutNanos;
    private final ProxyGate gate;
    private final Runnable onDone;
    private ChannelHandlerContext ctx;
    private ByteBuf held;
    private boolean decoding;
    private boolean done;
    private ScheduledFuture<?> timer;

    /**
     * Creates the stage for one connection, with a gate that admits every address ({@link ProxyGate#NONE}).
     *
     * @param conn the connection, whose client address is replaced by the header's
     * @param acceptance the listener's setting
     * @param timeoutNanos how long to wait for the whole header
     * @param onDone run once on the event loop when the header is consumed or found absent, after this handler
     *        removed itself; not run when the connection is closed instead
     */
    public ProxyHeaderHandler(ConnectionState conn, ProxyAcceptance acceptance, long timeoutNanos, Runnable onDone) {
        this(conn, acceptance, timeoutNanos, ProxyGate.NONE, onDone);
    }

    /**
     * Creates the stage for one connection.
     *
     * @param conn the connection, whose client address is replaced by the header's
     * @param acceptance the listener's setting
     * @param timeoutNanos how long to wait for the whole header
     * @param gate admits the client address and takes refusals
     * @param onDone run once on the event loop when the header is consumed or found absent and the client address
     *        admitted, after this handler removed itself; not run when the connection is closed instead
     */
    public ProxyHeaderHandler(ConnectionState conn, ProxyAcceptance acceptance, long timeoutNanos, ProxyGate gate,
                              Runnable onDone) {
        this.conn = conn;
        this.acceptance = acceptance;
        this.timeoutNanos = timeoutNanos;
        this.gate = gate;
        this.onDone = onDone;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (acceptance.mode() == ProxyProtocolMode.REQUIRED && !trusted()) {
            refuse(RefusalReason.PROXY_HEADER_UNTRUSTED, trustedLimit(),
                    "a PROXY header is required and the source is not trusted");
            return;
        }
        timer = ctx.executor().schedule(this::onTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
        releaseHeld();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage) {
            HAProxyMessage m = (HAProxyMessage) msg;
            try {
                received(m);
            } finally {
                m.release();
            }
            return;
        }
        if (!(msg instanceof ByteBuf) || done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (decoding) {
            // The decoder is in front and still wants bytes; none reach here before its message.
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        if (held == null) {
            held = in;
        } else {
            ByteBuf both = ctx.alloc().buffer(held.readableBytes() + in.readableBytes());
            both.writeBytes(held).writeBytes(in);
            held.release();
            in.release();
            held = both;
        }
        switch (signature(held)) {
            case NEED_MORE:
                return;
            case NONE:
                if (acceptance.mode() == ProxyProtocolMode.REQUIRED) {
                    refuse(RefusalReason.PROXY_HEADER_MISSING, "acceptProxyProtocol=REQUIRED",
                            "no PROXY header on a listener that requires one");
                } else if (admitted()) {
                    ByteBuf bytes = held;
                    held = null;
                    finish();
                    ctx.fireChannelRead(bytes);
                }
                return;
            default:
                if (!trusted()) {
                    refuse(RefusalReason.PROXY_HEADER_UNTRUSTED, trustedLimit(),
                            "a PROXY header from an untrusted source");
                    return;
                }
                decode();
        }
    }

    /** Puts the decoder in front of this handler and gives it the bytes read so far. */
    private void decode() {
        decoding = true;
        HAProxyMessageDecoder decoder = new HAProxyMessageDecoder();
        ctx.pipeline().addBefore(ctx.name(), "proxy-decoder", decoder);
        Guard guard = new Guard();
        ctx.pipeline().addBefore("proxy-decoder", "proxy-guard", guard);
        ChannelHandlerContext decoderCtx = ctx.pipeline().context(decoder);
        ByteBuf bytes = held;
        held = null;
        guard.inDecoder = true;
        try {
            decoder.channelRead(decoderCtx, bytes);
        } catch (Exception e) {
            malformed(e);
        } finally {
            guard.inDecoder = false;
        }
    }

    /**
     * Sits in front of the decoder. The decoder closes the channel itself on a malformed header, just before it
     * throws the error: a close that comes while the decoder runs and nothing is decided yet is that one, and is held
     * back, so that the refusal (counted, reported, with a reset when configured) does the closing. Every other close
     * passes.
     */
    private final class Guard extends ChannelDuplexHandler {
        boolean inDecoder;

        @Override
        public void channelRead(ChannelHandlerContext guard, Object msg) {
            inDecoder = true;
            try {
                guard.fireChannelRead(msg);
            } finally {
                inDecoder = false;
            }
        }

        @Override
        public void close(ChannelHandlerContext guard, ChannelPromise promise) {
            if (inDecoder && !done) {
                promise.trySuccess();
                return;
            }
            guard.close(promise);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            malformed(cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done = true;
        cancelTimer();
        releaseHeld();
        ctx.fireChannelInactive();
    }

    private void malformed(Throwable cause) {
        if (!done) {
            refuse(RefusalReason.PROXY_HEADER_MALFORMED, "malformed PROXY header: " + messages(cause),
                    "malformed PROXY header: " + cause);
        }
    }

    private void received(HAProxyMessage m) {
        if (done) {
            return;
        }
        InetSocketAddress real = realAddress(m);
        if (real != null) {
            conn.clientAddress(real);
        }
        conn.proxyHeader(info(m, conn.socketAddress(), real));
        if (log.isDebugEnabled()) {
            log.debug("[{}] PROXY {} {} from {}: client {}", conn.id(), m.protocolVersion(), m.command(),
                    conn.socketAddress(), conn.clientAddress());
        }
        if (admitted()) {
            finish();
        }
    }

    /**
     * Returns the messages along a cause chain, joined with {@code ": "}, skipping those that only repeat their
     * cause (a wrapper made from it); the class name when there is none.
     */
    static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null && c != c.getCause(); c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && !(c.getCause() != null && m.equals(c.getCause().toString()))) {
                sb.append(sb.length() == 0 ? "" : ": ").append(m);
            }
        }
        return sb.length() == 0 ? t.getClass().getSimpleName() : sb.toString();
    }

    /** Asks the gate to admit the client address; on a refusal closes the connection and returns {@code false}. */
    private boolean admitted() {
        Refusal r = gate.admitClient(conn);
        if (r == null) {
            return true;
        }
        refuse(r, "over an admission limit for " + conn.clientAddress().getAddress().getHostAddress());
        return false;
    }

    /** Returns the public view of a header; copies its TLVs, so the message may be released afterwards. */
    static ProxyInfo info(HAProxyMessage m, InetSocketAddress socket, InetSocketAddress source) {
        List<HAProxyTLV> raw = m.tlvs();
        List<ProxyInfo.Tlv> tlvs = new ArrayList<>(raw.size());
        for (HAProxyTLV t : raw) {
            tlvs.add(new ProxyInfo.Tlv(t.typeByteValue() & 0xff, ByteBufUtil.getBytes(t.content())));
        }
        InetSocketAddress destination = null;
        if (source != null) {
            byte[] ip = NetUtil.createByteArrayFromIpAddressString(m.destinationAddress());
            if (ip != null) {
                try {
                    destination = new InetSocketAddress(InetAddress.getByAddress(ip), m.destinationPort());
                } catch (java.net.UnknownHostException e) {
                    destination = null; // not reached: the length is 4 or 16
                }
            }
        }
        return new ProxyInfo(m.protocolVersion() == HAProxyProtocolVersion.V1 ? ProxyProtocolVersion.V1
                : ProxyProtocolVersion.V2, m.command() == HAProxyCommand.LOCAL, socket, source, destination, tlvs);
    }

    /** Returns the source address of a {@code PROXY} command over TCP, or {@code null} to keep the socket's. */
    static InetSocketAddress realAddress(HAProxyMessage m) {
        if (m.command() != HAProxyCommand.PROXY) {
            return null;
        }
        HAProxyProxiedProtocol p = m.proxiedProtocol();
        if (p != HAProxyProxiedProtocol.TCP4 && p != HAProxyProxiedProtocol.TCP6) {
            return null;
        }
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(m.sourceAddress());
        if (ip == null) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), m.sourcePort());
        } catch (java.net.UnknownHostException e) {
            return null; // not reached: the length is 4 or 16
        }
    }

    private void finish() {
        done = true;
        cancelTimer();
        if (decoding) {
            ctx.pipeline().remove("proxy-guard");
        }
        ctx.pipeline().remove(this);
        onDone.run();
    }

    private void onTimeout() {
        if (!done) {
            refuse(RefusalReason.PROXY_HEADER_TIMEOUT, "peekTimeout=" + Duration.ofNanos(timeoutNanos),
                    "no complete PROXY header by the detection deadline");
        }
    }

    private void refuse(RefusalReason reason, String limit, String why) {
        refuse(gate.refusal(reason, limit), why);
    }

    private void refuse(Refusal refusal, String why) {
        done = true;
        cancelTimer();
        releaseHeld();
        log.debug("[{}] closing {}: {}", conn.id(), conn.socketAddress(), why);
        gate.refuse(conn, refusal);
    }

    private boolean trusted() {
        return acceptance.isTrusted(conn.socketAddress().getAddress());
    }

    private String trustedLimit() {
        return "acceptProxyProtocol trusted=" + acceptance.trusted();
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Tells whether the bytes start with a v1 or v2 signature, do not, or are too few to say. */
    static Signature signature(ByteBuf b) {
        int n = b.readableBytes();
        int at = b.readerIndex();
        boolean v1 = matches(b, at, n, V1_SIGNATURE);
        boolean v2 = matches(b, at, n, V2_SIGNATURE);
        if (v1 && n >= V1_SIGNATURE.length || v2 && n >= V2_SIGNATURE.length) {
            return Signature.FOUND;
        }
        return v1 || v2 ? Signature.NEED_MORE : Signature.NONE;
    }

    /** Returns whether the first {@code min(n, sig.length)} bytes equal the signature's. */
    private static boolean matches(ByteBuf b, int at, int n, byte[] sig) {
        for (int i = 0, m = Math.min(n, sig.length); i < m; i++) {
            if (b.getByte(at + i) != sig[i]) {
                return false;
            }
        }
        return true;
    }
}
