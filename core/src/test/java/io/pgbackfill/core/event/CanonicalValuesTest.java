package io.pgbackfill.core.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

class CanonicalValuesTest {

    /** pgjdbc reads infinity as MAX and -infinity as MIN; their canonical form is PostgreSQL's text, as the producer writes it. */
    @Test
    void infiniteDatesAndTimestampsReadThroughJdbcArePostgresqlsInfinity() {
        assertThat(CanonicalValues.timestamp(LocalDateTime.MAX)).isEqualTo("infinity");
        assertThat(CanonicalValues.timestamp(LocalDateTime.MIN)).isEqualTo("-infinity");
        assertThat(CanonicalValues.date(LocalDate.MAX)).isEqualTo("infinity");
        assertThat(CanonicalValues.date(LocalDate.MIN)).isEqualTo("-infinity");
        assertThat(CanonicalValues.timestamptz("infinity")).isEqualTo("infinity");
        assertThat(CanonicalValues.timestamptz("-infinity")).isEqualTo("-infinity");
        assertThat(CanonicalValues.timestamp(LocalDateTime.parse("2024-05-06T07:08:09.5"))).isEqualTo("2024-05-06T07:08:09.500000");
        assertThat(CanonicalValues.date(LocalDate.parse("0001-01-01"))).isEqualTo("0001-01-01");
    }

    /** The chunked snapshot's fast path gives what the parser gives, and leaves everything unusual to it. */
    @Test
    void utcTextOfTimestamptzMatchesTheParsedForm() {
        for (String[] c : new String[][] {
                {"2020-01-01 00:00:37.123457+00", "2020-01-01T00:00:37.123457Z"},
                {"2020-01-01 00:00:37.5+00", "2020-01-01T00:00:37.500000Z"},
                {"2020-01-01 00:00:37+00", "2020-01-01T00:00:37.000000Z"},
                {"0099-12-31 23:59:59.000001+00", "0099-12-31T23:59:59.000001Z"}}) {
            assertThat(CanonicalValues.timestamptzFromUtcText(c[0])).isEqualTo(c[1]);
            assertThat(CanonicalValues.timestamptz(java.time.OffsetDateTime.parse(c[0].replace(' ', 'T') + ":00").toInstant())).isEqualTo(c[1]);
        }
        assertThat(CanonicalValues.timestamptzFromUtcText("infinity")).isNull();
        assertThat(CanonicalValues.timestamptzFromUtcText("0044-03-15 12:00:00+00 BC")).isNull();
        assertThat(CanonicalValues.timestamptzFromUtcText("2020-01-01 00:00:37+02")).isNull();
        assertThat(CanonicalValues.timestamptzFromUtcText("12020-01-01 00:00:37+00")).isNull();
    }
}
