package io.pgbackfill.ops.compose;

import java.util.LinkedHashMap;
import java.util.Map;

/** A scrape in the Prometheus text format, as series (name with labels) to value: enough to check what an endpoint serves. */
record PrometheusText(Map<String, Double> series) {

    static PrometheusText parse(String body) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1).replace("+Inf", "Infinity")));
        }
        return new PrometheusText(out);
    }

    /** Sum over the series of {@code name} whose labels contain every {@code label="value"} given. */
    double sum(String name, String... labels) {
        double total = 0;
        boolean found = false;
        for (var e : series.entrySet()) {
            if (matches(e.getKey(), name, labels)) {
                total += e.getValue();
                found = true;
            }
        }
        if (!found) {
            throw new AssertionError("no series " + name + " " + String.join(",", labels) + " in the scrape");
        }
        return total;
    }

    boolean has(String name, String... labels) {
        return series.keySet().stream().anyMatch(k -> matches(k, name, labels));
    }

    private static boolean matches(String series, String name, String... labels) {
        int brace = series.indexOf('{');
        String seriesName = brace < 0 ? series : series.substring(0, brace);
        if (!seriesName.equals(name)) {
            return false;
        }
        for (String label : labels) {
            if (!series.contains(label)) {
                return false;
            }
        }
        return true;
    }
}
