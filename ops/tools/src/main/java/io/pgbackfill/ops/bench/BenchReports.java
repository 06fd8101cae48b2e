package io.pgbackfill.ops.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes the three reports of a run: bench.txt (the printed table), bench.json, bench.html. */
public final class BenchReports {
    public static final String TEXT = "bench.txt";
    public static final String JSON = "bench.json";
    public static final String HTML = "bench.html";

    private BenchReports() {
    }

    public static String text(BenchResults r) {
        return TextReport.render(r);
    }

    /** Writes the reports into {@code dir} (created if missing) and returns their paths. */
    public static List<Path> write(BenchResults r, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path text = Files.writeString(dir.resolve(TEXT), TextReport.render(r), StandardCharsets.UTF_8);
        Path json = Files.writeString(dir.resolve(JSON), JsonReport.render(r), StandardCharsets.UTF_8);
        Path html = Files.writeString(dir.resolve(HTML), HtmlReport.render(r), StandardCharsets.UTF_8);
        return List.of(text, json, html);
    }
}
