package io.pgbackfill.ops.commands;

/**
 * A subcommand that lives outside the CLI module (demo and bench, in pgbackfill-tools), found with
 * {@link java.util.ServiceLoader}: the CLI neither compiles nor ships against the tools, and {@code ./backfill}
 * from a checkout runs with the tools' classpath, so there they are subcommands like any other.
 * Implementations are picocli {@code @Command} classes with a public no-argument constructor.
 */
public interface ToolCommand {
}
