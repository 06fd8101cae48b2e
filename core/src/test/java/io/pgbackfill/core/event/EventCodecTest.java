package io.pgbackfill.core.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EventCodecTest {

    @Test
    void changeEventsRoundTripWithLongsNullsUnicodeAndLists() {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 7L);
        after.put("name", "Zoë 🙂 \"quoted\" \\ back\nline");
        after.put("gone", null);
        after.put("ok", true);
        after.put("ratio", 0.25);
        after.put("tags", List.of("a", "b"));
        ChangeEvent e = new ChangeEvent("u", "public.users", 123456789L, 42L, false, Map.of("id", 7L), after, Set.of("bio"), null);
        ChangeEvent back = EventCodec.decodeChange(EventCodec.encode(e));
        assertThat(back).isEqualTo(e);
        assertThat(back.key().get("id")).isInstanceOf(Long.class);
    }

    @Test
    void streamingEncoderWritesWhatDataBindingWouldRead() {
        ChangeEvent w = ChangeEvent.watermark("public.users", 99, 1, true);
        assertThat(EventCodec.decodeChange(EventCodec.encode(w))).isEqualTo(w);
        assertThat(new String(EventCodec.encode(w))).doesNotContain("null").contains("\"snapshotDone\":true");
    }

    @Test
    void rowChangesRoundTrip() {
        RowChange r = RowChange.upsert(5, Map.of("id", "1"), Map.of("id", "1", "first_name", "Ana"), Set.of("bio"));
        assertThat(EventCodec.decodeRow(EventCodec.encode(r))).isEqualTo(r);
        RowChange d = RowChange.delete(6, Map.of("id", "1"));
        assertThat(EventCodec.decodeRow(EventCodec.encode(d))).isEqualTo(d);
    }

    @Test
    void timestampsFromDebeziumAndJdbcMeetInOneForm() {
        assertThat(CanonicalValues.timestamptz("2020-06-13T21:46:05.12349Z")).isEqualTo("2020-06-13T21:46:05.123490Z");
        assertThat(CanonicalValues.timestamptz("2020-06-13T21:46:05Z")).isEqualTo("2020-06-13T21:46:05.000000Z");
        assertThat(CanonicalValues.timestamptz("2020-06-13T23:46:05.5+02:00")).isEqualTo("2020-06-13T21:46:05.500000Z");
        assertThat(CanonicalValues.timestamptz(java.time.Instant.parse("2020-06-13T21:46:05.12349Z"))).isEqualTo("2020-06-13T21:46:05.123490Z");
        assertThat(CanonicalValues.timestamptzFromMicros(0)).isEqualTo("1970-01-01T00:00:00.000000Z");
        assertThat(CanonicalValues.timestamptz("infinity")).isEqualTo("infinity");
    }
}
