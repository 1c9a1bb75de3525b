package io.refractium.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition until it holds or a bound passes; for state that settles on another thread. */
public final class Await {

    private Await() {
    }

    /**
     * Waits until {@code condition} holds.
     *
     * @throws AssertionError naming {@code what} when it does not hold within {@code max}
     */
    public static void until(String what, BooleanSupplier condition, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not reached within " + max + ": " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + what, e);
            }
        }
    }

    /** Waits up to 5 seconds until {@code condition} holds. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, condition, Duration.ofSeconds(5));
    }
}
