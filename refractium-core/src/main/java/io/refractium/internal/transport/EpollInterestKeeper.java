package io.refractium.internal.transport;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Works around a Netty 4.2 epoll bug that silently drops a live socket from the epoll set: wraps
 * {@code EpollIoHandler} so that every interest set submitted for a registration includes {@code EPOLLERR}.
 *
 * <p>The bug (netty-transport-classes-epoll 4.2.18): {@code EpollIoHandler}'s registration, once added to epoll,
 * answers an empty interest set with {@code EPOLL_CTL_DEL} but still considers itself added, so the next non-empty
 * interest set is sent as {@code EPOLL_CTL_MOD} and fails with {@code ENOENT}. A half-closed TCP channel gets there
 * routinely: after the peer's FIN, Netty clears {@code EPOLLRDHUP}, then {@code EPOLLIN} (at once when auto-read is
 * off, else at the next readiness event, the socket being readable at EOF for ever), so when a write that had stalled
 * completes and {@code EPOLLOUT} is cleared, nothing is left and the socket leaves the epoll set. The next write that
 * stalls then asks for {@code EPOLLOUT}; the {@code ENOENT} surfaces from the channel's write path as a write error,
 * on which Netty shuts the output down and drops every byte still queued for that socket: the proxy loses the tail of
 * the direction that was still flowing towards the side that had finished sending (see
 * {@code HalfClosedWriteStallTest}). No file descriptor is reused or closed twice; the channel's own interest
 * bookkeeping removes it.
 *
 * <p>{@code EPOLLERR} is always reported by the kernel whether asked for or not, so adding it to the interest set
 * changes no event the channel sees; it only keeps the set from ever being empty, so Netty never issues that
 * {@code EPOLL_CTL_DEL} (closing a channel still removes it, through the registration's {@code cancel()}). Only event
 * loop groups Refractium creates get this; groups passed in by the embedding application keep Netty's behaviour.
 */
final class EpollInterestKeeper implements IoHandler {

    private final IoHandler delegate;

    private EpollInterestKeeper(IoHandler delegate) {
        this.delegate = delegate;
    }

    /** Returns a factory of handlers that wrap those of {@code epollFactory}. */
    static IoHandlerFactory wrap(IoHandlerFactory epollFactory) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor executor) {
                return new EpollInterestKeeper(epollFactory.newHandler(executor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return epollFactory.isChangingThreadSupported();
            }
        };
    }

    @Override
    public void initialize() {
        delegate.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        return delegate.run(context);
    }

    @Override
    public void prepareToDestroy() {
        delegate.prepareToDestroy();
    }

    @Override
    public void destroy() {
        delegate.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return new Registration(delegate.register(handle));
    }

    @Override
    public void wakeup() {
        delegate.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return delegate.isCompatible(handleType);
    }

    /** Adds {@code EPOLLERR} to every interest set submitted. */
    private static final class Registration implements IoRegistration {
        private final IoRegistration delegate;

        Registration(IoRegistration delegate) {
            this.delegate = delegate;
        }

        @Override
        public <T> T attachment() {
            return delegate.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            return delegate.submit(ops instanceof EpollIoOps ? ((EpollIoOps) ops).with(EpollIoOps.EPOLLERR) : ops);
        }

        @Override
        public boolean isValid() {
            return delegate.isValid();
        }

        @Override
        public boolean cancel() {
            return delegate.cancel();
        }
    }
}
