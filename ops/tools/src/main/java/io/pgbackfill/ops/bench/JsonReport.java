package io.pgbackfill.ops.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** bench.json: every figure of the run, for tooling and for comparing runs. */
final class JsonReport {
    private static final ObjectWriter JSON = new ObjectMapper().writerWithDefaultPrettyPrinter();

    private JsonReport() {
    }

    /** A figure that could not be measured (NaN, infinite) is null in JSON, not the string "NaN". */
    private static Object finite(Object v) {
        if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return null;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, finite(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(finite(x)));
            return out;
        }
        return v;
    }

    static String render(BenchResults r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("startedAt", r.startedAt().toString());
        root.put("totalSeconds", r.totalSeconds());
        root.put("ok", r.ok());
        root.put("machine", machine(r.machine()));
        root.put("loadAverageAtEnd", r.loadAverageAtEnd());
        root.put("options", options(r.options()));
        List<Object> approaches = new ArrayList<>();
        for (ApproachResult a : r.approaches()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", a.key());
            m.put("label", a.label());
            m.put("status", a.status().name());
            m.put("rows", a.rows());
            m.put("seconds", a.seconds());
            m.put("rowsPerSecond", a.rowsPerSecond());
            m.put("ratioToPgbackfill", r.ratioToPgbackfill(a));
            m.put("verifySeconds", a.verifySeconds());
            m.put("note", a.note());
            m.put("reason", a.reason());
            m.put("extras", a.extras());
            approaches.add(m);
        }
        root.put("approaches", approaches);
        List<Object> lag = new ArrayList<>();
        for (LagResult l : r.lagPhases()) {
            lag.add(lag(l));
        }
        root.put("lagPhases", lag);
        root.put("problems", r.problems());
        try {
            return JSON.writeValueAsString(finite(root)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("bench.json: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> machine(MachineInfo m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cores", m.cores());
        out.put("memoryBytes", m.memoryBytes());
        out.put("cpu", m.cpu());
        out.put("os", m.os());
        out.put("java", m.java());
        out.put("postgres", m.postgres());
        out.put("infrastructure", m.infrastructure());
        out.put("loadAverageAtStart", m.loadAverage());
        return out;
    }

    private static Map<String, Object> options(BenchOptions o) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rows", o.rows());
        out.put("rowByRowSample", o.rowByRowSample());
        out.put("inPlaceRange", BenchOptions.IN_PLACE_RANGE);
        out.put("kafkaConnect", o.kafkaConnect());
        out.put("lagPhase", o.lagPhase());
        out.put("lagRows", o.lagRows());
        out.put("writeRate", o.writeRate());
        out.put("lagSeconds", o.lagSeconds());
        out.put("partitions", o.partitions());
        return out;
    }

    private static Map<String, Object> lag(LagResult l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rows", l.rows());
        m.put("ok", l.ok());
        m.put("targetWriteRate", l.targetWriteRate());
        m.put("achievedWriteRate", l.achievedWriteRate());
        m.put("writes", l.writes());
        m.put("writeErrors", l.writeErrors());
        m.put("snapshotSeconds", l.snapshotSeconds());
        m.put("caughtUpAfterSnapshotSeconds", l.caughtUpAfterSeconds());
        m.put("phaseSeconds", l.phaseSeconds());
        m.put("lagResolutionMillis", l.pollMillis());
        m.put("streamingLagMillis", stats(l.streaming()));
        m.put("lagFirstSecondsAfterSnapshotMillis", stats(l.afterSnapshot()));
        m.put("streamingLagStagesMillis", stages(l.streamingStages()));
        m.put("lagFirstSecondsAfterSnapshotStagesMillis", stages(l.afterSnapshotStages()));
        m.put("snapshotRowsPerSecond", l.snapshotRowsPerSecond());
        m.put("lagDuringSnapshotMillis", stats(l.duringSnapshot()));
        m.put("startupSeconds", LagPhase.STARTUP_SECONDS);
        m.put("lagDuringSnapshotStartupMillis", stats(l.startup()));
        m.put("lagDuringSnapshotAfterStartupMillis", stats(l.afterStartup()));
        m.put("lagDuringSnapshotStartupStagesMillis", stages(l.startupStages()));
        m.put("lagDuringSnapshotAfterStartupStagesMillis", stages(l.afterStartupStages()));
        m.put("peakHeapBytes", l.peakHeapBytes());
        m.put("liveHeapBytes", l.liveHeapBytes());
        m.put("pipelineHeapBytes", l.pipelineHeapBytes());
        m.put("maxHeapBytes", l.maxHeapBytes());
        m.put("peakRssBytes", l.peakRssBytes());
        m.put("rssPeakIsPerPhase", l.rssPeakIsPerPhase());
        m.put("mismatches", l.mismatches());
        m.put("writesNeverSeen", l.untrackedAtEnd());
        List<Object> timeline = new ArrayList<>();
        for (LagTimeline.Point p : l.timeline()) {
            timeline.add(List.of(p.second(), p.samples(), p.p50(), p.p99(), p.max()));
        }
        m.put("lagPerSecondColumns", List.of("second", "samples", "p50Millis", "p99Millis", "maxMillis"));
        m.put("lagPerSecond", timeline);
        List<Object> memory = new ArrayList<>();
        for (MemorySampler.Sample s : l.memory()) {
            memory.add(List.of(s.seconds(), s.heapUsedBytes(), s.rssBytes()));
        }
        m.put("memoryColumns", List.of("seconds", "heapUsedBytes", "rssBytes"));
        m.put("memory", memory);
        return m;
    }

    private static Map<String, Object> stages(StageBreakdown b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", b.samples());
        List<Object> rows = new ArrayList<>();
        for (StageBreakdown.Stage s : b.stages()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("stage", s.name());
            row.put("p50", s.p50());
            row.put("p99", s.p99());
            row.put("slowestPercentMean", s.tailMean());
            rows.add(row);
        }
        m.put("stages", rows);
        return m;
    }

    private static Map<String, Object> stats(LagStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", s.samples());
        m.put("p50", s.p50());
        m.put("p95", s.p95());
        m.put("p99", s.p99());
        m.put("max", s.max());
        return m;
    }
}
