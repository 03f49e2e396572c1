package org.ctrranker.operators.serde;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;

/**
 * The rules of a sequence of values in state where each may be kept as a {@link ByteDelta} from the one before it:
 * how a value is stored after its predecessor, and how one is read back whole. The keepers hold the sequence's
 * order and decide when a value's predecessor changes.
 */
public final class DeltaChain {

    /** A value of the sequence by position, or null where there is none. */
    @FunctionalInterface
    public interface Values {
        byte[] at(int position) throws Exception;
    }

    private DeltaChain() {}

    /**
     * What to store for {@code value} after a predecessor stored as {@code previousStored} (null: none): its delta
     * from the predecessor, whole from {@code previousWhole}, unless the chain would reach {@code maxChain} deltas or
     * the delta saves nothing.
     */
    public static byte[] toStore(ByteDelta delta, byte[] previousStored, Callable<byte[]> previousWhole, byte[] value,
            int maxChain) throws Exception {
        if (previousStored == null) {
            return value;
        }
        int depth = ByteDelta.isDelta(previousStored) ? ByteDelta.depth(previousStored) + 1 : 1;
        if (depth >= maxChain) {
            return value;
        }
        byte[] encoded = delta.encode(previousWhole.call(), value, depth);
        return encoded.length < value.length ? encoded : value;
    }

    /**
     * The value at {@code position} whole, from the nearest at or before it that {@code remembered} knows whole or
     * that is stored whole; null if nothing is stored there.
     */
    public static byte[] whole(int position, Values remembered, Values stored) throws Exception {
        Deque<byte[]> deltas = new ArrayDeque<>();
        byte[] value;
        for (int j = position; ; j--) {
            if (j < 0) {
                throw new IllegalStateException("value " + position + " of a delta chain has no whole base");
            }
            value = remembered.at(j);
            if (value != null) {
                break;
            }
            value = stored.at(j);
            if (value == null && j < position) {
                throw new IllegalStateException("value " + j + " of a delta chain is missing under " + position);
            }
            if (!ByteDelta.isDelta(value)) {
                break;
            }
            deltas.push(value);
        }
        while (!deltas.isEmpty()) {
            value = ByteDelta.apply(value, deltas.pop());
        }
        return value;
    }
}
