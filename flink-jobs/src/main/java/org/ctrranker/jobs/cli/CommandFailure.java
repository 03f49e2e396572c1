package org.ctrranker.jobs.cli;

/**
 * A failure the user can fix, reported as one line naming the fix (no stack trace).
 * The launcher prints the message and exits with status 2.
 */
public final class CommandFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CommandFailure(String message) {
        super(message);
    }

    public CommandFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
