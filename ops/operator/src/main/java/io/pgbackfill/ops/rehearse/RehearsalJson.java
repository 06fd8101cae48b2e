package io.pgbackfill.ops.rehearse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The report as JSON (the records' own field names), for scripts and CI gates. */
public final class RehearsalJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private RehearsalJson() {
    }

    public static String render(RehearsalReport r) {
        try {
            return MAPPER.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("report cannot be written as JSON", e);
        }
    }

    public static RehearsalReport parse(String json) throws JsonProcessingException {
        return MAPPER.readValue(json, RehearsalReport.class);
    }
}
