package io.pgbackfill.core.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class DataErrorsTest {
    @Test
    void theRowsFaultIsIsolatedTheSetupsIsNot() {
        for (String state : new String[] {"21000", "22001", "22P02", "23505", "23502", "54000", "42804"}) {
            assertThat(DataErrors.isDataError(new SQLException("x", state))).as(state).isTrue();
        }
        for (String state : new String[] {"08006", "40001", "42P01", "42501", "57014", "53100"}) {
            assertThat(DataErrors.isDataError(new SQLException("x", state))).as(state).isFalse();
        }
        assertThat(DataErrors.isDataError(new SQLException("no state"))).isFalse();
    }
}
