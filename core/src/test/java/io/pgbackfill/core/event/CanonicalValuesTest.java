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
}
