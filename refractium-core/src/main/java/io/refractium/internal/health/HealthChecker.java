package io.refractium.internal.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.HealthCheck;
import io.refractium.ProxyProtocolVersion;
import io.refractium.internal.proxy.ProxyHeaders;
import io.refractium.internal.transport.Transports;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active health check loop of one backend: connect (and optionally send bytes and read a reply prefix) every
 * interval plus jitter, on one event loop; a UDP check connects a datagram socket, sends one datagram and waits for
 * one back (an ICMP port unreachable reaches {@code exceptionCaught} as a {@code PortUnreachableException}). When the target sends the PROXY protocol, each check first sends a
 * {@code LOCAL} header (v2) or {@code PROXY UNKNOWN} (v1), so that a backend requiring a header accepts it. Check
 * connections are separate from client traffic: they touch no
 * connection counters. {@link #stop()} cancels the pending timer and any check in flight; a stopped checker never
 * schedules again.
 */
final class HealthChecker {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final BackendState state;
    private final HealthCheck check;
    private final EventLoop loop;
    private final Transports transports;
    private final AtomicInteger liveCheckers;
    private final byte[] send;
    private final byte[] expect;
    /** The PROXY protocol version of the target, sent first on each check; {@code null} for none. */
    private final ProxyProtocolVersion proxyProtocol;
    private boolean stopped;
    private ScheduledFuture<?> timer;
    private Channel inFlight;

    HealthChecker(BackendState state, HealthCheck check, ProxyProtocolVersion proxyProtocol, EventLoop loop,
                  Transports transports, AtomicInteger liveCheckers) {
        this.proxyProtocol = proxyProtocol;
        this.state = state;
        this.check = check;
        this.loop = loop;
        this.transports = transports;
        this.liveCheckers = liveCheckers;
        this.send = check.send();
        this.expect = check.expect();
    }

    void start() {
        liveCheckers.incrementAndGet();
        loop.execute(() -> {
            if (!stopped) {
                // The first check comes soon, spread over a fraction of the interval so backends are not checked together.
                schedule(ThreadLocalRandom.current().nextLong(Math.max(1, check.interval().toNanos() / 10)));
            }
        });
    }

    void stop() {
        loop.execute(() -> {
            if (stopped) {
                return;
            }
            stopped = true;
            liveCheckers.decrementAndGet();
            if (timer != null) {
                timer.cancel(false);
            }
            if (inFlight != null) {
                inFlight.close();
            }
        });
    }

    private void schedule(long delayNanos) {
        timer = loop.schedule(this::run, delayNanos, TimeUnit.NANOSECONDS);
    }

    private long nextDelay() {
        long interval = check.interval().toNanos();
        long jitter = (long) (interval * check.jitter());
        return interval + (jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter + 1) : 0);
    }

    private void run() {
        if (stopped) {
            return;
        }
        Attempt attempt = new Attempt();
        boolean udp = check.kind() == HealthCheck.Kind.UDP;
        Bootstrap b = udp ? new Bootstrap()
                .group(loop)
                .channelFactory(transports.datagramChannel(state.connectAddress))
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_536))
                .handler(attempt) : new Bootstrap()
                .group(loop)
                .channelFactory(transports.socketChannel(state.connectAddress))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, check.timeout().toMillis()))
                .option(ChannelOption.AUTO_READ, check.kind() == HealthCheck.Kind.SEND_EXPECT)
                .handler(attempt);
        ChannelFuture f = b.connect(state.connectAddress);
        if (attempt.done) {
            return;
        }
        inFlight = f.channel();
        attempt.timeout = loop.schedule(() -> attempt.finish(false, "timed out after " + check.timeout().toMillis() + " ms"),
                check.timeout().toNanos(), TimeUnit.NANOSECONDS);
        f.addListener((ChannelFutureListener) cf -> {
            if (!cf.isSuccess()) {
                attempt.finish(false, BackendState.describe(cf.cause()));
            } else if (check.kind() == HealthCheck.Kind.CONNECT) {
                if (proxyProtocol != null) {
                    cf.channel().writeAndFlush(ProxyHeaders.forHealthCheck(proxyProtocol));
                }
                attempt.finish(true, "connected");
            }
        });
    }

    /** One check: the channel handler that reads the reply, and the single place its result is recorded. */
    private final class Attempt extends ChannelInboundHandlerAdapter {
        private final byte[] received = new byte[expect.length];
        private int length;
        private boolean done;
        ScheduledFuture<?> timeout;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (check.kind() == HealthCheck.Kind.UDP) {
                // No PROXY header over UDP: the datagram goes as it is.
                ctx.writeAndFlush(Unpooled.wrappedBuffer(send));
            } else if (check.kind() == HealthCheck.Kind.SEND_EXPECT) {
                if (proxyProtocol != null) {
                    // A backend that requires the header would otherwise see a malformed connection.
                    ctx.write(ProxyHeaders.forHealthCheck(proxyProtocol));
                }
                if (send.length > 0) {
                    ctx.write(Unpooled.wrappedBuffer(send));
                }
                ctx.flush();
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DatagramPacket && !done) {
                    ByteBuf buf = ((DatagramPacket) msg).content();
                    if (buf.readableBytes() < expect.length) {
                        finish(false, "short reply (" + buf.readableBytes() + " bytes)");
                        return;
                    }
                    for (int i = 0; i < expect.length; i++) {
                        if (buf.getByte(buf.readerIndex() + i) != expect[i]) {
                            finish(false, "unexpected reply");
                            return;
                        }
                    }
                    finish(true, "expected reply");
                } else if (msg instanceof ByteBuf && !done) {
                    ByteBuf buf = (ByteBuf) msg;
                    int n = Math.min(buf.readableBytes(), received.length - length);
                    buf.getBytes(buf.readerIndex(), received, length, n);
                    length += n;
                    for (int i = 0; i < length; i++) {
                        if (received[i] != expect[i]) {
                            finish(false, "unexpected reply");
                            return;
                        }
                    }
                    if (length == expect.length) {
                        finish(true, "expected reply");
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (check.kind() != HealthCheck.Kind.CONNECT) {
                finish(false, "closed after " + length + " reply bytes");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(false, BackendState.describe(cause));
        }

        void finish(boolean ok, String detail) {
            if (done) {
                return;
            }
            done = true;
            if (timeout != null) {
                timeout.cancel(false);
            }
            Channel ch = inFlight;
            inFlight = null;
            if (ch != null) {
                ch.close();
            }
            if (stopped) {
                return;
            }
            if (log.isDebugEnabled()) {
                log.debug("check {} {}: {}", state.backend.hostAndPort(), ok ? "passed" : "failed", detail);
            }
            state.checked(ok, detail);
            schedule(nextDelay());
        }
    }
}
