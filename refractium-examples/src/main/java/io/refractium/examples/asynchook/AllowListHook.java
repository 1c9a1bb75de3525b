package io.refractium.examples.asynchook;

import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.Hook;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Admits a client only when an allow-list service says yes, without blocking the event loop: {@link #onAcceptedAsync}
 * starts the lookup on another executor and returns its {@link CompletableFuture}; Refractium waits for it (up to
 * its hook decision timeout) and goes on on the connection's own event loop.
 *
 * <p>The "service" here is a set of addresses answered after a simulated network delay, completed on the lookup
 * executor's thread; a real one would be an HTTP or database client with an asynchronous API. A lookup that fails
 * or takes longer than the hook decision timeout refuses the client under the default failure policy
 * ({@link io.refractium.hook.HookFailurePolicy#FAIL_CLOSED}).
 */
public final class AllowListHook implements Hook {

    private final Set<InetAddress> allowed;
    private final ScheduledExecutorService lookups;
    private final Duration latency;
    private final Consumer<String> log;

    /**
     * Creates the hook.
     *
     * @param allowed the client addresses to admit
     * @param lookups the executor the lookups complete on (not shut down by the hook)
     * @param latency the simulated lookup delay
     * @param log where to write one line per decision
     */
    public AllowListHook(Set<InetAddress> allowed, ScheduledExecutorService lookups, Duration latency,
                         Consumer<String> log) {
        this.allowed = Set.copyOf(allowed);
        this.lookups = Objects.requireNonNull(lookups, "lookups");
        this.latency = Objects.requireNonNull(latency, "latency");
        this.log = Objects.requireNonNull(log, "log");
    }

    @Override
    public CompletionStage<Admission> onAcceptedAsync(ConnectionInfo connection) {
        InetAddress client = connection.clientAddress().getAddress();
        CompletableFuture<Admission> answer = new CompletableFuture<>();
        lookups.schedule(() -> {
            Admission a = allowed.contains(client) ? Admission.ACCEPT : Admission.REFUSE;
            log.accept("#" + connection.id() + " " + client.getHostAddress() + ": " + a + " (answered on "
                    + Thread.currentThread().getName() + ")");
            answer.complete(a);
        }, latency.toNanos(), TimeUnit.NANOSECONDS);
        return answer;
    }
}
