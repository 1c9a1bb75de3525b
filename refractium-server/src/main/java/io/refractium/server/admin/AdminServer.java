package io.refractium.server.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.refractium.BackendStatus;
import io.refractium.ConnectionSnapshot;
import io.refractium.Refractium;
import io.refractium.TargetStatus;
import io.refractium.spi.AttributeKey;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's admin HTTP endpoint, on its own port (loopback unless configured otherwise), with Netty's HTTP codec:
 * <ul>
 *   <li>{@code GET /metrics}: the metrics in the Prometheus text format;</li>
 *   <li>{@code GET /healthz}: {@code 200 ok} while the instance runs, else {@code 503};</li>
 *   <li>{@code GET /ready}: {@code 200} once the instance runs and every target has a backend that takes new
 *       connections, else {@code 503} with the targets that have none;</li>
 *   <li>{@code GET /config}: the configuration in use, with the values of keys that look secret replaced;</li>
 *   <li>{@code GET /targets}: each target's backends, their health, admin state, open connections and failures;</li>
 *   <li>{@code POST /targets/TARGET/backends/HOST:PORT/drain}, {@code .../disable}, {@code .../enable}: what
 *       {@link Refractium#drain}, {@link Refractium#disable} and {@link Refractium#enable} do; answers the target's
 *       state after the change;</li>
 *   <li>{@code GET /connections}: the open connections with their protocol, attributes, target, backend and bytes.</li>
 * </ul>
 * Answers are JSON except {@code /metrics}, {@code /healthz} and {@code /config}. A request the endpoint does not know
 * gets {@code 404}, a wrong method {@code 405}, an unknown target or backend {@code 404} with the reason. Requests are
 * served on one event loop of the endpoint's own, never on Refractium's; the connection list is gathered
 * asynchronously from Refractium's event loops.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final Supplier<Refractium> refractium;
    private final Supplier<String> metrics;
    private final Supplier<String> config;
    private final IoEventLoopGroup group;
    private final Channel channel;

    private AdminServer(InetSocketAddress address, Supplier<Refractium> refractium, Supplier<String> metrics,
                        Supplier<String> config) {
        this.refractium = refractium;
        this.metrics = metrics;
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("refractium-admin", true),
                NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new Handler());
                    }
                });
        var f = b.bind(address).awaitUninterruptibly();
        if (!f.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new UncheckedIOException("admin listen " + address + ": bind failed: " + f.cause().getMessage(),
                    f.cause() instanceof java.io.IOException io ? io : new BindException(f.cause().toString()));
        }
        this.channel = f.channel();
        log.info("admin endpoint on http://{}", hostAndPort(localAddress()));
    }

    /**
     * Starts the endpoint.
     *
     * @param address where to listen
     * @param refractium the instance (looked up on every request)
     * @param metrics the Prometheus text of the metrics
     * @param config the configuration in use, secrets already hidden
     * @return the running endpoint
     * @throws UncheckedIOException if the address cannot be bound
     */
    public static AdminServer start(InetSocketAddress address, Supplier<Refractium> refractium,
                                    Supplier<String> metrics, Supplier<String> config) {
        return new AdminServer(address, refractium, metrics, config);
    }

    /** Returns the address the endpoint listens on. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private static String hostAndPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Serves one request at a time per connection. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            String path = new QueryStringDecoder(req.uri()).path();
            HttpMethod method = req.method();
            try {
                route(ctx, method, path, keepAlive);
            } catch (RuntimeException e) {
                log.warn("admin {} {} failed: {}", method, path, e.toString(), e);
                send(ctx, keepAlive, HttpResponseStatus.INTERNAL_SERVER_ERROR, json(),
                        "{\"error\":" + Json.string(e.toString()) + "}");
            }
        }

        private void route(ChannelHandlerContext ctx, HttpMethod method, String path, boolean keepAlive) {
            Refractium r = refractium.get();
            if (path.equals("/healthz")) {
                if (method != HttpMethod.GET) {
                    notAllowed(ctx, keepAlive, "GET");
                } else if (r != null && r.isRunning()) {
                    send(ctx, keepAlive, HttpResponseStatus.OK, text(), "ok\n");
                } else {
                    send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, text(), "not running\n");
                }
            } else if (path.equals("/ready")) {
                if (method != HttpMethod.GET) {
                    notAllowed(ctx, keepAlive, "GET");
                    return;
                }
                ready(ctx, keepAlive, r);
            } else if (path.equals("/metrics")) {
                if (method != HttpMethod.GET) {
                    notAllowed(ctx, keepAlive, "GET");
                    return;
                }
                send(ctx, keepAlive, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
            } else if (path.equals("/config")) {
                if (method != HttpMethod.GET) {
                    notAllowed(ctx, keepAlive, "GET");
                    return;
                }
                send(ctx, keepAlive, HttpResponseStatus.OK, "application/yaml; charset=utf-8", config.get());
            } else if (path.equals("/targets")) {
                if (method != HttpMethod.GET) {
                    notAllowed(ctx, keepAlive, "GET");
                    return;
                }
                StringBuilder sb = new StringBuilder("[");
                List<TargetStatus> targets = r.targets();
                for (int i = 0; i < targets.size(); i++) {
                    sb.append(i == 0 ? "" : ",").append(target(targets.get(i)));
                }
                send(ctx, keepAlive, HttpResponseStatus.OK, json(), sb.append("]").toString());
            } else if (path.startsWith("/targets/")) {
                backendAction(ctx, method, path, keepAlive, r);
            } else if (path.equals("/connections")) {
                if (method != HttpMethod.GET) {
                    notAllowed(ctx, keepAlive, "GET");
                    return;
                }
                r.connectionsAsync().whenComplete((list, err) -> ctx.executor().execute(() -> {
                    if (err != null) {
                        send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, json(),
                                "{\"error\":" + Json.string(err.toString()) + "}");
                        return;
                    }
                    StringBuilder sb = new StringBuilder("[");
                    for (int i = 0; i < list.size(); i++) {
                        sb.append(i == 0 ? "" : ",").append(connection(list.get(i)));
                    }
                    send(ctx, keepAlive, HttpResponseStatus.OK, json(), sb.append("]").toString());
                }));
            } else {
                send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, json(),
                        "{\"error\":\"no such endpoint: " + Json.escape(path) + "\",\"endpoints\":[\"/metrics\","
                                + "\"/healthz\",\"/ready\",\"/config\",\"/targets\",\"/targets/TARGET/backends/"
                                + "HOST:PORT/{drain,disable,enable}\",\"/connections\"]}");
            }
        }

        private void ready(ChannelHandlerContext ctx, boolean keepAlive, Refractium r) {
            if (r == null || !r.isRunning()) {
                send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, text(), "not running\n");
                return;
            }
            StringBuilder without = new StringBuilder();
            for (TargetStatus t : r.targets()) {
                boolean any = false;
                for (BackendStatus b : t.backends()) {
                    any |= b.health() == BackendStatus.Health.UP && b.takesNewConnections();
                }
                if (!any) {
                    without.append(without.length() == 0 ? "" : ", ").append(t.name());
                }
            }
            if (without.length() == 0) {
                send(ctx, keepAlive, HttpResponseStatus.OK, text(), "ready\n");
            } else {
                send(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, text(),
                        "no backend takes new connections in: " + without + "\n");
            }
        }

        /** {@code /targets/TARGET/backends/HOST:PORT/ACTION}. */
        private void backendAction(ChannelHandlerContext ctx, HttpMethod method, String path, boolean keepAlive,
                                   Refractium r) {
            String[] parts = path.split("/");
            // "", "targets", TARGET, "backends", HOST:PORT, ACTION
            if (parts.length == 3) {
                TargetStatus t = r.target(QueryStringDecoder.decodeComponent(parts[2]));
                if (t == null) {
                    send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, json(),
                            "{\"error\":\"no target " + Json.escape(parts[2]) + "\"}");
                } else {
                    send(ctx, keepAlive, HttpResponseStatus.OK, json(), target(t));
                }
                return;
            }
            if (parts.length != 6 || !parts[3].equals("backends")) {
                send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, json(), "{\"error\":\"expected /targets/TARGET/"
                        + "backends/HOST:PORT/drain, /disable or /enable\"}");
                return;
            }
            if (method != HttpMethod.POST) {
                notAllowed(ctx, keepAlive, "POST");
                return;
            }
            String target = QueryStringDecoder.decodeComponent(parts[2]);
            String backend = QueryStringDecoder.decodeComponent(parts[4]);
            TargetStatus after;
            try {
                switch (parts[5]) {
                    case "drain" -> after = r.drain(target, backend);
                    case "disable" -> after = r.disable(target, backend);
                    case "enable" -> after = r.enable(target, backend);
                    default -> {
                        send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, json(), "{\"error\":\"no action "
                                + Json.escape(parts[5]) + " (expected: drain, disable or enable)\"}");
                        return;
                    }
                }
            } catch (IllegalArgumentException e) {
                send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, json(),
                        "{\"error\":" + Json.string(e.getMessage()) + "}");
                return;
            }
            log.info("admin: {} backend {} of target {}", parts[5], backend, target);
            send(ctx, keepAlive, HttpResponseStatus.OK, json(), target(after));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    private static String target(TargetStatus t) {
        StringBuilder sb = new StringBuilder("{\"name\":").append(Json.string(t.name())).append(",\"backends\":[");
        List<BackendStatus> backends = t.backends();
        for (int i = 0; i < backends.size(); i++) {
            BackendStatus b = backends.get(i);
            sb.append(i == 0 ? "" : ",")
                    .append("{\"backend\":").append(Json.string(b.backend().hostAndPort()))
                    .append(",\"health\":").append(Json.string(b.health().name()))
                    .append(",\"admin\":").append(Json.string(b.admin().name()))
                    .append(",\"activeConnections\":").append(b.activeConnections())
                    .append(",\"connectFailures\":").append(b.connectFailures())
                    .append(",\"lastChange\":").append(Json.string(b.lastChange()))
                    .append('}');
        }
        return sb.append("]}").toString();
    }

    private static String connection(ConnectionSnapshot c) {
        StringBuilder sb = new StringBuilder("{\"id\":").append(c.id())
                .append(",\"client\":").append(Json.string(hostAndPort(c.client())))
                .append(",\"listener\":").append(Json.string(c.listener() == null ? null : hostAndPort(c.listener())))
                .append(",\"protocol\":").append(Json.string(c.protocol()))
                .append(",\"attributes\":{");
        boolean first = true;
        for (Map.Entry<AttributeKey<?>, Object> e : c.attributes().asMap().entrySet()) {
            sb.append(first ? "" : ",").append(Json.string(e.getKey().name())).append(':')
                    .append(Json.string(String.valueOf(e.getValue())));
            first = false;
        }
        return sb.append("},\"target\":").append(Json.string(c.target()))
                .append(",\"backend\":").append(Json.string(c.backend() == null ? null : hostAndPort(c.backend())))
                .append(",\"backendConnected\":").append(c.backendConnected())
                .append(",\"bytesFromClient\":").append(c.bytesFromClient())
                .append(",\"bytesToClient\":").append(c.bytesToClient())
                .append(",\"acceptedAt\":").append(Json.string(c.acceptedAt().toString()))
                .append(",\"ageMillis\":").append(c.age().toMillis())
                .append('}').toString();
    }

    private static String json() {
        return "application/json";
    }

    private static String text() {
        return "text/plain; charset=utf-8";
    }

    private static void notAllowed(ChannelHandlerContext ctx, boolean keepAlive, String allowed) {
        FullHttpResponse res = response(HttpResponseStatus.METHOD_NOT_ALLOWED, text(), "use " + allowed + "\n");
        res.headers().set(HttpHeaderNames.ALLOW, allowed);
        write(ctx, keepAlive, res);
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status,
                             String contentType, String body) {
        write(ctx, keepAlive, response(status, contentType, body));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return res;
    }

    private static void write(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse res) {
        if (keepAlive) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(res);
        } else {
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
