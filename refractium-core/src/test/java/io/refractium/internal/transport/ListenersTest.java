package io.refractium.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.refractium.testing.Await;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The listeners on real sockets. */
@Timeout(30)
class ListenersTest {

    @Test
    @EnabledOnOs(OS.LINUX)
    void withReusePortEachAcceptedChannelStaysOnItsListenersEventLoop() throws Exception {
        assumeTrue(Transports.isEpollAvailable(), "epoll is not available");
        Transports transports = Transports.choose(true);
        IoEventLoopGroup group = transports.newGroup(2, "listeners-test");
        ConcurrentLinkedQueue<Boolean> sameLoop = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Object> loops = new ConcurrentLinkedQueue<>();
        Listeners listeners = new Listeners(transports, group, group, true, 2,
                new WriteBufferWaterMark(64 * 1024, 256 * 1024), (SocketChannel ch) -> {
                    sameLoop.add(ch.parent().eventLoop() == ch.eventLoop());
                    loops.add(ch.eventLoop());
                    ch.close();
                });
        try {
            InetSocketAddress address = listeners.bind(new InetSocketAddress("127.0.0.1", 0));
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 64; i++) {
                    sockets.add(new Socket(address.getAddress(), address.getPort()));
                }
                Await.until("64 accepted", () -> sameLoop.size() == 64);
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            assertThat(sameLoop).containsOnly(true);
        } finally {
            listeners.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
