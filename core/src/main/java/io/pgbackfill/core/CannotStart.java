package io.pgbackfill.core;

/**
 * A stage or command cannot start: a server refused our credentials or certificates, or cannot be
 * reached. The message is one line, names the connection and never carries a secret (exit code 2).
 */
public class CannotStart extends RuntimeException {
    public CannotStart(String message) {
        super(message);
    }
}
