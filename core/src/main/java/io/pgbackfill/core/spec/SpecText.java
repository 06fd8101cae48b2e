package io.pgbackfill.core.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;

/**
 * A scalar from the spec file together with where it was written, so that errors found later
 * (an expression that does not compile, an unknown column) can still point at file:line:column.
 */
@JsonDeserialize(using = SpecText.Reader.class)
public record SpecText(String text, int line, int column) {

    public static SpecText of(String text) {
        return new SpecText(text, 0, 0);
    }

    public String at() {
        return line + ":" + column;
    }

    @Override
    public String toString() {
        return text;
    }

    static final class Reader extends JsonDeserializer<SpecText> {
        @Override
        public SpecText deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonLocation loc = p.currentTokenLocation();
            JsonToken t = p.currentToken();
            if (t == null || !t.isScalarValue()) {
                return (SpecText) ctxt.handleUnexpectedToken(SpecText.class, p);
            }
            return new SpecText(p.getValueAsString(), loc.getLineNr(), loc.getColumnNr());
        }
    }
}
