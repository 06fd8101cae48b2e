package io.pgbackfill.ops.rehearse;

import io.pgbackfill.ops.BackfillCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the real CLI in-process; stdout and stderr apart, since --json must keep stdout pure JSON. */
record CliCapture(int exitCode, String stdout, String stderr) {
    static synchronized CliCapture of(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = BackfillCli.commandLine().execute(args);
            return new CliCapture(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
            out.print(o.toString(StandardCharsets.UTF_8));
            err.print(e.toString(StandardCharsets.UTF_8));
        }
    }

    String all() {
        return stdout + stderr;
    }
}
