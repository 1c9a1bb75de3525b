package io.refractium.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a buffer leak while it ran. Registered for every test class through
 * JUnit's extension auto-detection (see {@code junit-platform.properties} and
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} in this test jar).
 *
 * <p>Leaks are found when the leaked buffer is garbage-collected and a later allocation polls the detector, so after
 * each class this collects garbage and allocates a few tracked buffers before it looks.
 */
public final class LeakCheckExtension implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(20);
            for (int i = 0; i < 16; i++) {
                ByteBuf a = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                a.release();
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                b.release();
            }
        }
        List<String> leaks = RecordingLeakDetector.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " leak(s) in "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }
}
