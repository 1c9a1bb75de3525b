package io.refractium.examples.rewrite;

import io.netty.buffer.ByteBuf;
import io.refractium.hook.DataContext;
import io.refractium.hook.DataHook;
import io.refractium.hook.DataHookFactory;
import io.refractium.hook.Direction;

/**
 * A {@link DataHook} that rewrites a connection's bytes both ways: one token in what the client sends, another in what
 * the backend sends, even when a token is split across reads (the replacer holds the bytes that may begin one, and
 * passes them on at the latest when that direction ends).
 */
public final class RewritingDataHook implements DataHook {

    private final TokenReplacer up;
    private final TokenReplacer down;

    /**
     * Creates the hook of one connection.
     *
     * @param upFrom the token to replace in the client's bytes
     * @param upTo its replacement
     * @param downFrom the token to replace in the backend's bytes
     * @param downTo its replacement
     */
    public RewritingDataHook(byte[] upFrom, byte[] upTo, byte[] downFrom, byte[] downTo) {
        this.up = new TokenReplacer(upFrom, upTo);
        this.down = new TokenReplacer(downFrom, downTo);
    }

    /**
     * Returns a factory that gives every connection its own rewriting hook.
     *
     * @param upFrom the token to replace in the client's bytes
     * @param upTo its replacement
     * @param downFrom the token to replace in the backend's bytes
     * @param downTo its replacement
     * @return the factory
     */
    public static DataHookFactory factory(byte[] upFrom, byte[] upTo, byte[] downFrom, byte[] downTo) {
        return connection -> new RewritingDataHook(upFrom, upTo, downFrom, downTo);
    }

    @Override
    public void onData(DataContext context, Direction direction, ByteBuf data) {
        TokenReplacer r = direction == Direction.CLIENT_TO_BACKEND ? up : down;
        context.forward(direction, r.next(context.alloc(), data));
    }

    @Override
    public void onEnd(DataContext context, Direction direction) {
        TokenReplacer r = direction == Direction.CLIENT_TO_BACKEND ? up : down;
        context.forward(direction, r.end(context.alloc()));
    }
}
