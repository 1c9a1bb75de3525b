package io.refractium.testing;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import java.util.ArrayList;
import java.util.List;

/**
 * A test detector for {@link DetectionContext#lastCallWhenQuiet()}: it needs more bytes until its last call, and
 * asks for a last call when the client goes quiet whenever it has seen {@code askFrom} to {@code askTo} bytes; on its last
 * call it matches when lenient. It records whether each call was a last call.
 */
public final class QuietProtocol implements RefractiumProtocol {

    private final String id;
    private final int priority;
    private final int askFrom;
    private final int askTo;
    private final boolean lenient;
    /** Whether each call was a last call, in order. */
    public final List<Boolean> lastCalls = new ArrayList<>();

    public QuietProtocol(String id, int priority, int askFrom, int askTo, boolean lenient) {
        this.id = id;
        this.priority = priority;
        this.askFrom = askFrom;
        this.askTo = askTo;
        this.lenient = lenient;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public int maxBytes() {
        return 256;
    }

    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        lastCalls.add(context.isLastCall());
        if (context.isLastCall()) {
            return lenient ? DetectionResult.match() : DetectionResult.needMore();
        }
        if (buf.readableBytes() >= askFrom && buf.readableBytes() <= askTo) {
            context.lastCallWhenQuiet();
        }
        return DetectionResult.needMore();
    }
}
