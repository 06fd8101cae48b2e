package io.pgbackfill.ops.commands;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.transform.MigrationPlan;
import io.pgbackfill.ops.rehearse.CannotRehearse;
import io.pgbackfill.ops.rehearse.Rehearsal;
import io.pgbackfill.ops.rehearse.RehearsalHtml;
import io.pgbackfill.ops.rehearse.RehearsalJson;
import io.pgbackfill.ops.rehearse.RehearsalOptions;
import io.pgbackfill.ops.rehearse.RehearsalReport;
import io.pgbackfill.ops.rehearse.RehearsalText;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rehearse", mixinStandardHelpOptions = true,
        description = {"Runs a sample of each source table through the spec's transform and reports what it would do.",
                "It uses the transformer's own code and reports, before anything starts: rows that would go to the DLQ by reason (with example keys), duplicate target keys,",
                "per target column NULL share, longest and largest values and values that do not fit, the measured cost per",
                "row, and the projected duration (start to caught up, a range and why when it cannot know), target size and WAL. Read-only: no slot, no publication, no topic;",
                "the trial write goes to a temporary table in a rolled-back transaction.",
                "Exit 0 READY, 1 blocking findings, 2 cannot start (bad spec, unreachable database, missing privilege)."})
public final class RehearseCommand implements Callable<Integer> {
    @Mixin
    SpecArgs spec;

    static final class SampleSize {
        @Option(names = "--sample", paramLabel = "PERCENT", description = "read this percentage of each table's pages (TABLESAMPLE SYSTEM)")
        Double percent;

        @Option(names = "--rows", paramLabel = "N", description = "read about N rows of each table (default " + RehearsalOptions.DEFAULT_ROWS + ")")
        Long rows;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    SampleSize size;

    @Option(names = "--json", description = "print the report as JSON")
    boolean json;

    @Option(names = "--html", paramLabel = "FILE", description = "also write the report as one self-contained HTML file")
    Path html;

    @Option(names = "--max-dlq-share", paramLabel = "FRACTION", defaultValue = "0",
            description = "share of rows that may go to the DLQ and still count as READY, e.g. 0.001 (default ${DEFAULT-VALUE})")
    double maxDlqShare;

    @Option(names = "--seed", description = "sample seed (TABLESAMPLE REPEATABLE): the same seed reads the same pages of an unchanged table; default random")
    Long seed;

    @Option(names = "--throttle", paramLabel = "ROWS", defaultValue = "0", description = "read at most this many rows per second; 0 = unthrottled (default)")
    long throttle;

    @Option(names = "--wal-window", paramLabel = "SECONDS", defaultValue = "2", description = "how long to watch the source's WAL rate (default ${DEFAULT-VALUE})")
    double walWindow;

    @Option(names = "--key-cap", paramLabel = "N", defaultValue = "" + RehearsalOptions.DEFAULT_KEY_HASH_CAP,
            description = "most target keys remembered by the duplicate check, 8 bytes each (default ${DEFAULT-VALUE})")
    int keyCap;

    @Option(names = "--heap-mib", paramLabel = "MIB", defaultValue = "0",
            description = "The heap the pipeline will run with, in MiB, for the memory estimate. Default: this JVM's, which the backfill script starts with the same -Xmx as up.")
    long heapMib;

    @Option(names = "--stages-per-jvm", paramLabel = "N", defaultValue = "3",
            description = "How many stages share one heap: 3 for up (default), 1 when producer, transformer and sink run as separate services.")
    int stagesPerJvm;

    @Override
    public Integer call() throws Exception {
        RehearsalOptions options = new RehearsalOptions(size == null ? null : size.percent,
                size == null || size.rows == null ? RehearsalOptions.DEFAULT_ROWS : size.rows,
                seed != null ? seed : ThreadLocalRandom.current().nextInt(1, 1_000_000), throttle, maxDlqShare, keyCap,
                Duration.ofMillis(Math.round(walWindow * 1000)), heapMib * 1024 * 1024, stagesPerJvm);
        RehearsalReport report;
        try {
            // A spec that does not compile fails here with file:line:column (SpecException, exit 2), before any sampling.
            MigrationPlan plan = spec.plan();
            report = new Rehearsal(plan, spec.file().toString(), options, System.err::println).run();
        } catch (CannotRehearse e) {
            System.err.println("backfill rehearse: " + e.getMessage());
            return ExitCode.CANNOT_START;
        } catch (SQLException e) {
            System.err.println("backfill rehearse: " + firstLine(Redaction.redact(String.valueOf(e.getMessage()))));
            return ExitCode.CANNOT_START;
        }
        System.out.print(json ? RehearsalJson.render(report) + "\n" : RehearsalText.render(report));
        if (html != null) {
            Files.writeString(html, RehearsalHtml.render(report), StandardCharsets.UTF_8);
            if (!json) {
                System.out.println("HTML report: " + html);
            }
        }
        return report.verdict().ready() ? ExitCode.OK : ExitCode.PROBLEM;
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
