package io.refractium.balance;

import io.refractium.Backend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link SelectionContext} whose eligibility, loads and keys the test sets. Out-of-range indexes throw, so that a
 * selector probing outside its list fails the test.
 */
final class FakeSelectionContext implements SelectionContext {

    final boolean[] eligible;
    final int[] active;
    private InetSocketAddress client;
    private String serverName;
    private io.refractium.spi.ProtocolAttributes attributes = io.refractium.spi.ProtocolAttributes.EMPTY;

    FakeSelectionContext(int size) {
        eligible = new boolean[size];
        active = new int[size];
        Arrays.fill(eligible, true);
    }

    /** Makes exactly the given backends eligible. */
    FakeSelectionContext onlyEligible(int... indexes) {
        Arrays.fill(eligible, false);
        for (int i : indexes) {
            eligible[i] = true;
        }
        return this;
    }

    /** Makes the given backends ineligible, leaving the others as they are. */
    FakeSelectionContext ineligible(int... indexes) {
        for (int i : indexes) {
            eligible[i] = false;
        }
        return this;
    }

    /** Sets the active connections of every backend, in order. */
    FakeSelectionContext active(int... counts) {
        System.arraycopy(counts, 0, active, 0, counts.length);
        return this;
    }

    FakeSelectionContext client(InetSocketAddress address) {
        this.client = address;
        return this;
    }

    FakeSelectionContext client(String ip) {
        return client(address(ip));
    }

    FakeSelectionContext serverName(String name) {
        this.serverName = name;
        return this;
    }

    FakeSelectionContext attributes(io.refractium.spi.ProtocolAttributes attributes) {
        this.attributes = attributes;
        return this;
    }

    @Override
    public io.refractium.spi.ProtocolAttributes attributes() {
        return attributes;
    }

    @Override
    public int size() {
        return eligible.length;
    }

    @Override
    public boolean isEligible(int index) {
        return eligible[index];
    }

    @Override
    public int activeConnections(int index) {
        return active[index];
    }

    @Override
    public InetSocketAddress clientAddress() {
        return client;
    }

    @Override
    public String serverName() {
        return serverName;
    }

    /** Returns a socket address for an IP literal, port 40000. */
    static InetSocketAddress address(String ip) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), 40000);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }

    /** Returns backends {@code 10.0.x.y:443} with the given weights, one per weight. */
    static List<Backend> backends(int... weights) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(backend(i).withWeight(weights[i]));
        }
        return list;
    }

    /** Returns {@code count} backends of weight 1. */
    static List<Backend> equalBackends(int count) {
        int[] weights = new int[count];
        Arrays.fill(weights, 1);
        return backends(weights);
    }

    /** Returns the {@code i}-th test backend, {@code 10.0.x.y:443}. */
    static Backend backend(int i) {
        return Backend.of("10.0." + (i / 250) + "." + (i % 250 + 1), 443);
    }
}
