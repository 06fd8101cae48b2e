package io.pgbackfill.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link CopyStream} against a real PostgreSQL: what goes in value by value, in chunks, comes out unchanged. */
class CopyStreamIT {
    private static TargetDatabase db;

    @BeforeAll
    static void up() throws Exception {
        db = TargetDatabase.start("copy_stream_it");
        db.execute("CREATE TABLE copied (n int PRIMARY KEY, v text)");
    }

    @AfterAll
    static void down() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void valuesSpanningChunksKeepSurrogatePairsEscapesAndNulls() throws Exception {
        List<String> values = new ArrayList<>();
        String emoji = "\uD83D\uDE42"; // 🙂, a surrogate pair
        // An emoji at every position around the chunk boundary: its halves must never be encoded apart.
        for (int pad = 32 * 1024 - 24; pad < 32 * 1024 + 4; pad++) {
            values.add("x".repeat(pad) + emoji + "tail");
        }
        values.add(null);
        values.add("");
        values.add("tab\there, newline\nthere, cr\r, backslash \\ and \\N literally");
        values.add("Zoë 李小龍 ﷽ " + emoji.repeat(40_000)); // several chunks of pairs
        values.add("y".repeat(3 * 1024 * 1024 + 17)); // megabytes: many chunks
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            long copied;
            try (CopyStream copy = CopyStream.open(c, "COPY copied (n, v) FROM STDIN (FORMAT text)")) {
                for (int i = 0; i < values.size(); i++) {
                    copy.raw(Integer.toString(i)).raw('\t').value(values.get(i)).raw('\n');
                }
                copied = copy.finish();
            }
            c.commit();
            assertThat(copied).isEqualTo(values.size());
            try (PreparedStatement ps = c.prepareStatement("SELECT v FROM copied WHERE n = ?")) {
                for (int i = 0; i < values.size(); i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).as("value %d", i).isEqualTo(values.get(i));
                    }
                }
            }
        }
    }

    @Test
    void anAbandonedCopyIsCancelledAndTheConnectionStaysUsable() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (CopyStream copy = CopyStream.open(c, "COPY copied (n, v) FROM STDIN (FORMAT text)")) {
                copy.raw("1000\t").value("never finished");
            }
            c.rollback();
            assertThat(TargetDatabase.rows(c, "SELECT count(*) FROM copied WHERE n = 1000")).containsExactly(List.of("0"));
        }
    }
}
