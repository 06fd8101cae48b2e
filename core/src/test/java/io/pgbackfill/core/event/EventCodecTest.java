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

    @Test
    void streamingRowEncoderWritesTheContractFields() throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("id", "1");
        values.put("first_name", "Zoë 🙂 \"q\" \\ \n");
        values.put("last_name", null);
        for (RowChange r : List.of(RowChange.upsert(5, Map.of("id", "1"), values, Set.of("bio")), RowChange.delete(6, Map.of("id", "1")),
                RowChange.watermark(7, true), RowChange.truncate(8),
                RowChange.upsert(9, Map.of("code", "a1"), Map.of("code", "a1"), Set.of(), "{\"code\":\"A1\"}"),
                RowChange.delete(10, Map.of("code", "a1"), "{\"code\":\"A1\"}"),
                RowChange.upsert(11, Map.of("id", "1"), values, Set.of("bio"), null, "{\"id\":1}"),
                RowChange.reread(12, Map.of("code", "a1"), "{\"code\":\"A1\"}", "{\"code\":\"A1\"}"))) {
            // Data binding also wrote the derived isUpsert()… flags, which no reader uses: the contract is the record's fields.
            var bound = (com.fasterxml.jackson.databind.node.ObjectNode) EventCodec.MAPPER.readTree(EventCodec.MAPPER.writerFor(RowChange.class).writeValueAsBytes(r));
            bound.remove(List.of("upsert", "delete", "watermark", "truncate", "reread"));
            assertThat(EventCodec.MAPPER.readTree(EventCodec.encode(r))).isEqualTo(bound);
            assertThat(EventCodec.decodeRow(EventCodec.encode(r))).isEqualTo(r);
        }
    }

    @Test
    void keysAreTheBytesDataBindingWrites() throws Exception {
        // Keys choose the Kafka partition: a change here would move rows of a running pipeline to other partitions.
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("id", 7L);
        key.put("name", "Zoë \"x\"");
        key.put("ok", true);
        key.put("ratio", 0.1);
        key.put("amount", new java.math.BigDecimal("12.50"));
        key.put("none", null);
        assertThat(EventCodec.encodeKey(key)).isEqualTo(EventCodec.MAPPER.writerFor(Map.class).writeValueAsBytes(key));
    }

    @Test
    void fastPathDecodesAsDataBindingDoes() throws Exception {
        List<String> changes = List.of(
                "{\"op\":\"r\",\"table\":\"public.t\",\"lsn\":1,\"tsMs\":2,\"snapshot\":true,\"key\":{\"id\":1},"
                        + "\"after\":{\"id\":1,\"d\":1.5,\"nan\":NaN,\"l\":[1,\"a\",null],\"o\":{\"x\":2},\"n\":null}}",
                "{\"op\":\"u\",\"lsn\":\"12\",\"snapshot\":null,\"key\":{\"id\":1},\"extra\":[1,{\"a\":2}]}",
                "{\"op\":\"u\",\"lsn\":3,\"lsn\":4}",
                "{\"op\":7,\"unchanged\":[\"a\",\"b\"],\"snapshotDone\":false}");
        for (String json : changes) {
            assertThat(EventCodec.decodeChange(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .as(json).isEqualTo(EventCodec.MAPPER.readerFor(ChangeEvent.class).readValue(json));
        }
        List<String> rows = List.of(
                "{\"op\":\"u\",\"lsn\":5,\"key\":{\"id\":\"1\"},\"values\":{\"id\":\"1\",\"x\":null},\"unchanged\":[\"bio\"]}",
                "{\"op\":\"u\",\"lsn\":5,\"key\":{\"id\":1},\"values\":{\"id\":2.5}}",
                "{\"op\":\"w\",\"lsn\":9,\"snapshotDone\":true,\"future\":{\"a\":[1]}}",
                "{\"op\":\"d\",\"lsn\":10,\"key\":{\"code\":\"a1\"},\"sourceKey\":\"{\\\"code\\\":\\\"A1\\\"}\"}");
        for (String json : rows) {
            assertThat(EventCodec.decodeRow(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .as(json).isEqualTo(EventCodec.MAPPER.readerFor(RowChange.class).readValue(json));
        }
        for (String bad : List.of("{\"op\":", "{\"op\":\"r\",\"after\":{\"big\":123456789012345678901234567890}}")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> EventCodec.decodeChange(bad.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not a pgbackfill change event");
        }
    }
}
