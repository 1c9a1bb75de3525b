package io.refractium.internal.engine;

import io.refractium.Backend;
import io.refractium.ForwardTarget;
import io.refractium.balance.LoadBalancer;
import io.refractium.balance.SelectionContext;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A {@link ForwardTarget} at run time: its load-balancing selector and the state of each backend. Shared by every
 * connection routed to the target; kept across routing-table swaps while the target is unchanged. Thread-safe.
 */
final class TargetRuntime {

    final ForwardTarget target;
    final BackendState[] backends;
    private final LoadBalancer.Selector selector;
    private final boolean hasBackups;

    TargetRuntime(ForwardTarget target) {
        this.target = target;
        List<Backend> list = target.backends();
        this.backends = new BackendState[list.size()];
        boolean backups = false;
        for (int i = 0; i < backends.length; i++) {
            backends[i] = new BackendState(list.get(i));
            backups |= list.get(i).isBackup();
        }
        this.hasBackups = backups;
        this.selector = target.loadBalancer().newSelector(list);
    }

    /**
     * Picks a backend for a connection and takes a connection slot on it.
     *
     * @param tried a bit set of backend indexes this connection already tried (only the first 64 are tracked)
     * @param client the client's address
     * @param serverName the SNI or Host, or {@code null}
     * @return the chosen backend's index, or {@code -1} when none is eligible
     */
    int acquire(long[] tried, InetSocketAddress client, String serverName) {
        Context ctx = new Context(tried, client, serverName);
        for (int attempt = 0; attempt < 3; attempt++) {
            ctx.backupTier = false;
            int i = selector.select(ctx);
            if (i < 0 && hasBackups) {
                ctx.backupTier = true;
                i = selector.select(ctx);
            }
            if (i < 0 || i >= backends.length || !ctx.isEligible(i)) {
                return -1;
            }
            if (backends[i].tryAcquire()) {
                return i;
            }
        }
        return -1;
    }

    void release(int index) {
        backends[index].release();
    }

    private final class Context implements SelectionContext {
        private final long[] tried;
        private final InetSocketAddress client;
        private final String serverName;
        boolean backupTier;

        Context(long[] tried, InetSocketAddress client, String serverName) {
            this.tried = tried;
            this.client = client;
            this.serverName = serverName;
        }

        @Override
        public int size() {
            return backends.length;
        }

        @Override
        public boolean isEligible(int index) {
            if (index < 0 || index >= backends.length) {
                return false;
            }
            BackendState b = backends[index];
            return b.backend.isBackup() == backupTier && b.healthy && b.hasCapacity()
                    && (index >= 64 || (tried[0] & (1L << index)) == 0);
        }

        @Override
        public int activeConnections(int index) {
            return backends[index].active.get();
        }

        @Override
        public InetSocketAddress clientAddress() {
            return client;
        }

        @Override
        public String serverName() {
            return serverName;
        }
    }
}
