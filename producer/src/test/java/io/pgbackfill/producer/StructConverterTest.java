package io.pgbackfill.producer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.TimeZone;
import org.junit.jupiter.api.Test;
import org.postgresql.PGStatement;

class StructConverterTest {

    @Test
    void debeziumsInfiniteTimestampsBecomePostgresqlsInfinityNotAYear294247() {
        assertThat(StructConverter.timestamp(StructConverter.INFINITY_MICROS)).isEqualTo("infinity");
        assertThat(StructConverter.timestamp(StructConverter.NEGATIVE_INFINITY_MICROS)).isEqualTo("-infinity");
        assertThat(StructConverter.timestamp(0)).isEqualTo("1970-01-01T00:00:00.000000");
        assertThat(StructConverter.timestamp(StructConverter.INFINITY_MICROS - 1)).isEqualTo("+294247-01-10T04:00:25.199999");
    }

    @Test
    void debeziumsInfiniteDatesFromStreamingAndFromTheSnapshotInEveryTimeZoneBecomeInfinity() {
        // streaming: Debezium's PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE / NEGATIVE_INFINITY_LOCAL_DATE
        assertThat(StructConverter.date((int) java.time.LocalDate.parse("-5877611-06-21").toEpochDay())).isEqualTo("infinity");
        assertThat(StructConverter.date((int) java.time.LocalDate.parse("-5877611-06-22").toEpochDay())).isEqualTo("-infinity");
        // snapshot: pgjdbc's java.sql.Date for infinity, as Debezium turns it into an int epoch day, in the JVM's time zone
        TimeZone original = TimeZone.getDefault();
        try {
            for (String zone : new String[] {"UTC", "Etc/GMT+12", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Pacific/Kiritimati"}) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                int plus = (int) new java.sql.Date(PGStatement.DATE_POSITIVE_INFINITY).toLocalDate().toEpochDay();
                int minus = (int) new java.sql.Date(PGStatement.DATE_NEGATIVE_INFINITY).toLocalDate().toEpochDay();
                assertThat(StructConverter.date(plus)).as(zone).isEqualTo("infinity");
                assertThat(StructConverter.date(minus)).as(zone).isEqualTo("-infinity");
            }
        } finally {
            TimeZone.setDefault(original);
        }
        assertThat(StructConverter.date(0)).isEqualTo("1970-01-01");
        assertThat(StructConverter.date((int) java.time.LocalDate.parse("-4712-01-01").toEpochDay())).isEqualTo("-4712-01-01");
    }
}
