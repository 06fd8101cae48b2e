package io.pgbackfill.ops.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgbackfill.core.control.ControlEntry;
import io.pgbackfill.core.control.ControlState;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.spec.SpecLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HooksTest {
    static PipelineSpec spec(String hooks) {
        return SpecLoader.parse("""
                name: hooks-test
                source: {jdbcUrl: "jdbc:postgresql://localhost:5432/app", user: app, passwordEnv: HOOKS_TEST_UNSET_PASSWORD}
                throttle: {rowsPerSecond: 500, query: "SELECT false"}
                hooks: %s
                tables:
                  - {source: public.a, target: public.b, columns: {id: id}}
                """.formatted(hooks), "hooks.yaml");
    }

    @Test
    void aHookSeesThePipelineStateInItsEnvironment() {
        Hooks hooks = new Hooks(spec("{beforeCutover: 'echo \"$PGBACKFILL_HOOK $PGBACKFILL_PIPELINE $PGBACKFILL_STAGE $PGBACKFILL_TABLES "
                + "paused=$PGBACKFILL_PAUSED rate=$PGBACKFILL_RATE_LIMIT x=$EXTRA\"'}"), "cutover");
        ControlState paused = new ControlState(Map.of(ControlState.PAUSE, ControlEntry.of("paused", "ana@ops", "peak")));
        Hooks.Outcome o = hooks.run(Hooks.BEFORE_CUTOVER, paused, Map.of("EXTRA", "1"));
        assertThat(o.ran()).isTrue();
        assertThat(o.ok()).isTrue();
        assertThat(o.output()).isEqualTo("beforeCutover hooks-test cutover public.a>public.b paused=ana@ops rate=500 x=1");
    }

    @Test
    void aFailingHookReportsItsExitCodeAndOutput() {
        Hooks.Outcome o = new Hooks(spec("{beforeCutover: 'echo app not ready >&2; exit 4'}"), "cutover").run(Hooks.BEFORE_CUTOVER, ControlState.EMPTY, Map.of());
        assertThat(o.ok()).isFalse();
        assertThat(o.exitCode()).isEqualTo(4);
        assertThat(o.output()).isEqualTo("app not ready");
    }

    @Test
    void aHookPastItsTimeoutIsKilledAndHasFailed() {
        Hooks.Outcome o = new Hooks(spec("{failure: 'sleep 30', timeoutSeconds: 1}"), "sink").run(Hooks.FAILURE, ControlState.EMPTY, Map.of());
        assertThat(o.ok()).isFalse();
        assertThat(o.exitCode()).isEqualTo(124);
    }

    @Test
    void aMomentWithoutAHookRunsNothing() {
        Hooks.Outcome o = new Hooks(spec("{failure: 'exit 1'}"), "sink").run(Hooks.STARTUP, ControlState.EMPTY, Map.of());
        assertThat(o.ran()).isFalse();
        assertThat(o.ok()).isTrue();
    }

    @Test
    void statusShowsPausedThrottledAndTheSettingsInForce() {
        PipelineSpec spec = spec("{}");
        ControlState s = new ControlState(Map.of(
                ControlState.PAUSE, ControlEntry.of("paused", "ana@ops", "peak hours"),
                ControlState.THROTTLE, new ControlEntry("throttled", "producer", null, 0, "replicaLag", 14200.0, 10000.0),
                ControlState.CHUNK_SIZE, ControlEntry.of("250", "ana@ops", null)));
        String screen = ControlScreen.render(s, spec);
        assertThat(screen).contains("state: PAUSED by ana@ops (peak hours)")
                .contains("throttled by replicaLag: 14200 ms vs threshold 10000 ms")
                .contains("snapshot rate limit: 500 rows/s (spec)")
                .contains("snapshot chunk size: 250 rows (set by ana@ops");
    }
}
