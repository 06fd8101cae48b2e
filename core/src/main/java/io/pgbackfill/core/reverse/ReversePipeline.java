package io.pgbackfill.core.reverse;

import io.pgbackfill.core.spec.ConnectionSpec;
import io.pgbackfill.core.spec.CutoverSpec;
import io.pgbackfill.core.spec.KafkaSpec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.ReverseMapping;
import io.pgbackfill.core.spec.SnapshotSpec;
import io.pgbackfill.core.spec.SpecText;
import io.pgbackfill.core.spec.TableSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import io.pgbackfill.core.sql.TableName;
import java.util.ArrayList;
import java.util.List;

/**
 * The reverse stream after a cutover is the same pipeline with source and target swapped and each table's
 * {@code reverse:} block as its transform: the new table (where the application now writes) is the source, the old
 * table (kept by the cutover) the target. Its names are the forward pipeline's with {@value #NAME_SUFFIX}
 * (slot, publication, topics, groups, heartbeat row, watermarks), so the two never share state. It takes no
 * snapshot ({@code snapshot.mode: none}): at the switch the old table already holds every row, and the cutover moves
 * its slot to the switch point.
 */
public final class ReversePipeline {
    public static final String NAME_SUFFIX = "-reverse";
    /**
     * Set on every session of the reverse stream on the old cluster: the {@code pgbackfill_switched} trigger, which
     * makes the old tables read-only after a new-cluster cutover, lets these writes through.
     */
    public static final String WRITER_SETTING = "pgbackfill.writer";
    public static final String WRITER_VALUE = "reverse";

    private ReversePipeline() {
    }

    /** True when at least one table has a {@code reverse:} block. */
    public static boolean declared(PipelineSpec forward) {
        return forward.tables().stream().anyMatch(t -> t.reverse() != null);
    }

    /** The tables with a reverse mapping; a reverse stream needs all of them to have one. */
    public static List<TableSpec> missing(PipelineSpec forward) {
        return forward.tables().stream().filter(t -> t.reverse() == null).toList();
    }

    /** Where the new table is after the forward cutover: under the old table's name (same database), or where it was. */
    public static TableName newTableAfterCutover(PipelineSpec forward, TableSpec t) {
        return forward.sameDatabase() ? t.sourceName() : t.targetName();
    }

    /** Where the old table is after the forward cutover: renamed NAME_SUFFIX (same database), or where it was. */
    public static TableName oldTableAfterCutover(PipelineSpec forward, TableSpec t) {
        TableName src = t.sourceName();
        return forward.sameDatabase() ? new TableName(src.schema(), SqlIdentifier.of(src.table().name() + "_" + forward.cutover().oldSuffix())) : src;
    }

    /**
     * The reverse pipeline, with tables named as they are after the cutover. Target keys are left to the catalog
     * ({@link ReversePlan} sets them to the old table's primary key).
     */
    public static PipelineSpec of(PipelineSpec forward) {
        return of(forward, null);
    }

    /** @param switchCommand new cluster: what switches the application back to the old cluster at rollback (null: a confirm file) */
    public static PipelineSpec of(PipelineSpec forward, String switchCommand) {
        List<TableSpec> tables = new ArrayList<>();
        for (TableSpec t : forward.tables()) {
            ReverseMapping r = t.reverse();
            if (r == null) {
                continue;
            }
            tables.add(new TableSpec(r.at(newTableAfterCutover(forward, t).id()), r.at(oldTableAfterCutover(forward, t).id()),
                    List.of(), null, r.columns(), null));
        }
        ConnectionSpec source = forward.sameDatabase() ? forward.source() : forward.target();
        ConnectionSpec target = forward.sameDatabase() ? null : withWriterSetting(forward.source());
        KafkaSpec k = forward.kafka();
        KafkaSpec kafka = new KafkaSpec(k.bootstrapServers(), k.topicPrefix() == null ? null : k.topicPrefix() + ".reverse", k.partitions(), k.properties());
        CutoverSpec c = forward.cutover();
        return new PipelineSpec(new SpecText(forward.pipelineName() + NAME_SUFFIX, forward.name().line(), forward.name().column()), source, target, kafka,
                new SnapshotSpec(forward.snapshot().chunkSize(), "none"), forward.sink(), tables,
                new CutoverSpec(c.oldSuffix(), c.lockTimeoutMs(), c.attempts(), switchCommand), forward.memory(),
                // No throttle (it paces snapshot reads; this pipeline takes none) and none of the forward hooks.
                null, null);
    }

    /**
     * The reverse pipeline with its tables under their names before the cutover (the new table still under its own
     * name): what the cutover creates the publication for. A publication follows its tables through a rename.
     */
    public static PipelineSpec beforeCutover(PipelineSpec forward) {
        PipelineSpec reverse = of(forward);
        List<TableSpec> tables = new ArrayList<>();
        for (TableSpec t : forward.tables()) {
            if (t.reverse() != null) {
                tables.add(new TableSpec(t.target(), t.source(), List.of(), null, t.reverse().columns(), null));
            }
        }
        return withTables(reverse, tables);
    }

    /** The forward table whose reverse stream writes {@code oldTable} (its name after the cutover). */
    public static TableSpec forwardTableOf(PipelineSpec forward, TableName oldTable) {
        return forward.tables().stream().filter(t -> oldTableAfterCutover(forward, t).equals(oldTable)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no table of the spec is reversed into " + oldTable));
    }

    /** The same reverse pipeline with the given tables (keyed by the catalog). */
    static PipelineSpec withTables(PipelineSpec reverse, List<TableSpec> tables) {
        return new PipelineSpec(reverse.name(), reverse.source(), reverse.target(), reverse.kafka(), reverse.snapshot(), reverse.sink(), tables,
                reverse.cutover(), reverse.memory(), reverse.throttle(), reverse.hooks());
    }

    /** The connection with {@value #WRITER_SETTING} set on every session (pgjdbc's {@code options} parameter). */
    static ConnectionSpec withWriterSetting(ConnectionSpec c) {
        String option = "-c%20" + WRITER_SETTING + "%3D" + WRITER_VALUE;
        String url = c.jdbcUrl();
        int at = url.indexOf("options=");
        if (at >= 0 && (url.charAt(at - 1) == '?' || url.charAt(at - 1) == '&')) {
            url = url.substring(0, at + "options=".length()) + option + "%20" + url.substring(at + "options=".length());
        } else {
            url = url + (url.contains("?") ? "&" : "?") + "options=" + option;
        }
        return new ConnectionSpec(url, c.user(), c.passwordEnv(), c.passwordFile(), c.password(), c.role());
    }
}
