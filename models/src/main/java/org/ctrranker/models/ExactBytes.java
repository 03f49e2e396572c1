package org.ctrranker.models;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * A byte stream for snapshots and checkpoints, whose size is known before they are written (a snapshot's from
 * the model's shape, a checkpoint's from the previous one): it allocates one array of the exact size and hands
 * that array out without the copy
 * {@link ByteArrayOutputStream#toByteArray} makes. The arrays are megabytes (humongous to G1), and the growing
 * and copying cost the trainer about three of them per checkpoint.
 */
final class ExactBytes extends ByteArrayOutputStream {

    ExactBytes(int expectedSize) {
        super(Math.max(expectedSize, 1024));
    }

    /** The bytes written; the buffer itself when they fill it exactly. */
    byte[] bytes() {
        return count == buf.length ? buf : Arrays.copyOf(buf, count);
    }
}
