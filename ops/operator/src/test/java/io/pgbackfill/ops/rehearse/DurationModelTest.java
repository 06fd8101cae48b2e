package io.pgbackfill.ops.rehearse;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The projection's structure: an estimate inside its range, a range no wider than the model's own error
 * when the conditions were those of the calibration, and a wider one with its reason when they were not.
 * No time is asserted: the figures are this machine's.
 */
class DurationModelTest {
    private static final DurationModel MODEL = DurationModel.CALIBRATED;

    private static DurationModel.Conditions quiet() {
        return new DurationModel.Conditions(1_000_000, 20, 200, 100_000, MODEL.calibratedCores(), 1.0, 3);
    }

    @Test
    void calibrationLikeConditionsGiveTheModelsOwnErrorAndNoReason() {
        DurationModel.Estimate e = MODEL.project(quiet());
        assertThat(e.reasons()).isEmpty();
        assertThat(e.lowSeconds()).isLessThan(e.seconds()).isCloseTo(e.seconds() * (1 - MODEL.error()), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(e.highSeconds()).isCloseTo(e.seconds() * (1 + MODEL.error()), org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void moreRowsOrLargerEventsTakeLonger() {
        DurationModel.Estimate base = MODEL.project(quiet());
        assertThat(MODEL.project(new DurationModel.Conditions(2_000_000, 20, 200, 100_000, 2, 1.0, 3)).seconds()).isGreaterThan(base.seconds());
        assertThat(MODEL.project(new DurationModel.Conditions(1_000_000, 20, 20_000, 100_000, 2, 1.0, 3)).seconds()).isGreaterThan(base.seconds());
    }

    @Test
    void aBusyMachineWidensTheRangeUpwardsAndSaysWhy() {
        DurationModel.Estimate quiet = MODEL.project(quiet());
        DurationModel.Estimate busy = MODEL.project(new DurationModel.Conditions(1_000_000, 40, 200, 100_000, 2, 0.5, 3));
        assertThat(busy.reasons()).singleElement().asString().contains("the rehearsal got 50% of a core").contains("quiet machine");
        assertThat(busy.lowSeconds()).isLessThan(busy.seconds()).isLessThan(busy.highSeconds());
        assertThat(busy.highSeconds() - busy.lowSeconds()).isGreaterThan(quiet.highSeconds() - quiet.lowSeconds());
    }

    @Test
    void whatTheCalibrationDidNotCoverIsNamed() {
        DurationModel.Estimate e = MODEL.project(new DurationModel.Conditions(1_000_000, 20, MODEL.largestCalibratedEventBytes() * 4, 500, 16, 1.0, 1));
        assertThat(e.reasons()).hasSize(4)
                .anySatisfy(r -> assertThat(r).contains("too small to time warm code"))
                .anySatisfy(r -> assertThat(r).contains("measured on " + MODEL.calibratedCores() + " cores and this machine has 16"))
                .anySatisfy(r -> assertThat(r).contains("larger than any the model was measured with"))
                .anySatisfy(r -> assertThat(r).contains("separate services"));
        assertThat(e.lowSeconds()).isLessThanOrEqualTo(e.seconds() * (1 - MODEL.error()));
        assertThat(e.highSeconds()).isGreaterThan(e.seconds() * (1 + MODEL.error()));
    }
}
