package io.refractium.examples.customprotocol;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import io.refractium.examples.hooks.LoggingHook;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * Teaches Refractium a protocol it does not ship: the made-up "knock" protocol, detected by {@link KnockDetector}.
 *
 * <p>The detector is a plain {@link io.refractium.spi.RefractiumProtocol} listed in this module's
 * {@code META-INF/services/io.refractium.spi.RefractiumProtocol}, so {@code discoverProtocols()} finds it beside the
 * built-in detectors, with nothing registered by hand. The example routes the id {@code "knock"} to an echo server
 * and everything else to a server that answers with a greeting line, and logs each connection with the
 * {@code knock.name} attribute the detector reports.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium-examples.jar
 * io.refractium.examples.customprotocol.CustomProtocolExample}. Then try
 * {@code printf 'KNOCK alice\nhello\n' | nc 127.0.0.1 PORT} (echoed back) and {@code printf 'hello\n' | nc 127.0.0.1
 * PORT}. Ctrl-C stops it.
 */
public final class CustomProtocolExample {

    private CustomProtocolExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args none
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        DemoBackends backends = new DemoBackends();
        String echo = DemoBackends.hostAndPort(backends.echo());
        String other = DemoBackends.hostAndPort(backends.start(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.writeAndFlush(Unpooled.copiedBuffer("not a knock\n", StandardCharsets.US_ASCII))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }));

        Refractium refractium = Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .route(KnockDetector.ID, ForwardTarget.of("knock", echo))
                .fallback(ForwardTarget.of("other", other))
                .hook(new LoggingHook(System.out::println))
                .build()
                .start();
        int port = refractium.localAddress().getPort();
        System.out.println("protocols: " + refractium.protocols());
        System.out.println("knock -> echo " + echo + ", anything else -> " + other);
        System.out.println("try:  printf 'KNOCK alice\\nhello\\n' | nc 127.0.0.1 " + port);
        System.out.println("      printf 'hello\\n' | nc 127.0.0.1 " + port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            stopped.countDown();
        }));
        stopped.await();
    }
}
