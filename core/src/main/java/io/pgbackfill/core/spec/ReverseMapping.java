package io.pgbackfill.core.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A table's {@code reverse:} block: each old-table column as a CEL expression over a row of the new table, for the
 * reverse stream after cutover. Keeps where the block was written, so that a column it leaves unfilled is reported
 * at file:line.
 */
@JsonDeserialize(using = ReverseMapping.Reader.class)
public record ReverseMapping(Map<String, SpecText> columns, int line, int column) {
    public ReverseMapping {
        columns = columns == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(columns));
    }

    /** Where the block is, as a {@link SpecText} for error positions. */
    public SpecText at(String text) {
        return new SpecText(text, line, column);
    }

    static final class Reader extends JsonDeserializer<ReverseMapping> {
        @Override
        public ReverseMapping deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonLocation loc = p.currentTokenLocation();
            JavaType type = ctxt.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, SpecText.class);
            Map<String, SpecText> columns = ctxt.readValue(p, type);
            return new ReverseMapping(columns, loc.getLineNr(), loc.getColumnNr());
        }
    }
}
