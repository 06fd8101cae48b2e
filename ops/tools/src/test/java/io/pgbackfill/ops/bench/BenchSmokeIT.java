package io.pgbackfill.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.embedded.Infrastructure;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the bench harness from rotting: every approach and a short lag phase on a small table, each
 * target verified, the three reports written. Asserts correctness only, never a time or a rate.
 */
class BenchSmokeIT {

    @Test
    void everyApproachVerifiesAndTheReportsAreWritten(@TempDir Path out) throws Exception {
        BenchOptions options = new BenchOptions(10_000, 10_000, true, true, List.of(5_000L), 200, 2, 2, out);
        BenchResults results;
        try (Infrastructure infra = Infrastructure.start()) {
            results = new BenchRun(infra, options, System.out).run();
        }
        BenchReports.write(results, out);

        assertThat(results.approaches()).extracting(ApproachResult::key)
                .containsExactly("row-by-row", "in-place-update", "offline-insert-select", "pgbackfill", "debezium-snapshot", "kafka-connect");
        assertThat(results.approaches()).allSatisfy(a ->
                assertThat(a.status()).as("%s: %s", a.key(), a.reason()).isEqualTo(ApproachResult.Status.OK));
        assertThat(results.approaches()).filteredOn(a -> !a.key().equals("row-by-row"))
                .allSatisfy(a -> assertThat(a.rows()).as(a.key()).isEqualTo(10_000));
        assertThat(results.lagPhases()).singleElement().satisfies(lag -> {
            assertThat(lag.ok()).as("lag phase verified, every tracked write seen").isTrue();
            assertThat(lag.streaming().samples()).as("writes tracked in the steady state").isPositive();
            assertThat(lag.afterSnapshot().samples()).as("writes tracked right after the snapshot").isPositive();
            assertThat(lag.streamingStages().samples()).as("steady-state writes seen at every stage").isPositive();
            assertThat(lag.streamingStages().stages()).hasSize(4);
            assertThat(lag.memory()).isNotEmpty();
        });
        assertThat(results.problems()).isEmpty();
        assertThat(out.resolve(BenchReports.TEXT)).content().contains("pgbackfill", "RESULT: OK", "where the streaming lag went");
        assertThat(out.resolve(BenchReports.JSON)).content().contains("\"approaches\"", "\"lagPhases\"");
        assertThat(out.resolve(BenchReports.HTML)).content().contains("<svg", "</html>");
    }
}
