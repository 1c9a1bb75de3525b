package io.refractium.examples.customprotocol;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import io.refractium.examples.hooks.LoggingHook;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;

/**
 * Teaches Refractium a protocol it does not ship: Redis, detected by {@link RedisDetector}.
 *
 * <p>The detector is a plain {@link io.refractium.spi.RefractiumProtocol} listed in this module's
 * {@code META-INF/services/io.refractium.spi.RefractiumProtocol}, so {@code discoverProtocols()} finds it beside the
 * built-in detectors, with nothing registered by hand. The example routes the id {@code "redis"} to a Redis server
 * and everything else to an echo server, and logs each connection with the {@code redis.command} attribute the
 * detector reports.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium.jar
 * io.refractium.examples.customprotocol.CustomProtocolExample [REDIS_HOST:PORT]}. Without an argument it uses
 * {@code 127.0.0.1:6379} when a server listens there, else a stand-in that answers {@code PING} and {@code ECHO}.
 * Then try {@code redis-cli -p PORT ping} and {@code printf 'hello\n' | nc 127.0.0.1 PORT}. Ctrl-C stops it.
 */
public final class CustomProtocolExample {

    private CustomProtocolExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args nothing, or the Redis server as {@code HOST:PORT}
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        DemoBackends backends = new DemoBackends();
        String redis;
        if (args.length > 0) {
            redis = args[0];
        } else if (accepts(new InetSocketAddress(InetAddress.getLoopbackAddress(), 6379))) {
            redis = "127.0.0.1:6379";
        } else {
            redis = DemoBackends.hostAndPort(backends.start(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new PingOnlyRedisHandler());
                }
            }));
            System.out.println("no Redis server on 127.0.0.1:6379: using a stand-in on " + redis);
        }

        Refractium refractium = Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .route(RedisDetector.ID, ForwardTarget.of("redis", redis))
                .fallback(ForwardTarget.of("echo", DemoBackends.hostAndPort(backends.echo())))
                .hook(new LoggingHook(System.out::println))
                .build()
                .start();
        int port = refractium.localAddress().getPort();
        System.out.println("protocols: " + refractium.protocols());
        System.out.println("redis -> " + redis + ", anything else -> echo");
        System.out.println("try:  redis-cli -p " + port + " ping");
        System.out.println("      printf 'hello\\n' | nc 127.0.0.1 " + port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    private static boolean accepts(InetSocketAddress address) {
        try (Socket s = new Socket()) {
            s.connect(address, 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
