package io.pgbackfill.ops.rehearse;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How long the pipeline takes to move a table, from what the rehearsal measured on its sample.
 *
 * <p>The rehearsal times, on one thread, the per-row work it can do without starting anything: reading,
 * the transform, the event JSON, the sink's write ({@code s}, µs per row). The pipeline does that work too,
 * plus what a rehearsal cannot do without Kafka: two produce/fetch hops per row through the broker, Kafka
 * Streams' exactly-once transactions, Debezium's window marks, and the garbage and JIT compilation all of it
 * causes. That extra work is one cost per record ({@code perRecordMicros}) and one per byte of event
 * ({@code perByteMicros}: the hops copy, compress and checksum every byte), measured by
 * {@code RehearseDemoReport} on two tables of very different row sizes (docs/rehearse.md). All of it
 * shares the machine's cores with PostgreSQL; three stages and the database keep at most four busy:
 *
 * <pre>duration = startup + rows × (s × share + perRecordMicros + perByteMicros × eventBytes) / min(cores, 4)</pre>
 *
 * where {@code share} is the share of a core the rehearsal got ({@link CpuShare}), so the estimate is for a quiet machine.
 *
 * @param startupSeconds   the pipeline's fixed cost (classes, JIT, connector, Streams' transactional start) in wall
 *                         seconds on the calibration machine's cores (4.3 s fitted on 2 cores, docs/rehearse.md)
 * @param perRecordMicros  CPU per record the pipeline spends beyond what the rehearsal measures (µs)
 * @param perByteMicros    the same per byte of the larger of the record's two events (µs/byte)
 * @param calibratedCores  cores of the machine the constants were measured on
 * @param largestCalibratedEventBytes the largest average event size the calibration covered
 * @param error            the model's relative error on its validation runs (0.2 = ±20%)
 * @param contention       how much longer than {@code quiet / share} the pipeline took on a machine where the rehearsal
 *                         got {@code share} of a core (measured 1.3-1.6: under contention its own CPU per row grows too)
 */
public record DurationModel(double startupSeconds, double perRecordMicros, double perByteMicros, int calibratedCores,
                            long largestCalibratedEventBytes, double error, double contention) {

    /** Measured on the 2-core machine of docs/rehearse.md ("The constants in force"). */
    public static final DurationModel CALIBRATED = new DurationModel(4.3, 10.1, 0.058, 2, 20_000, 0.3, 1.7);

    /** Below this share of a core, the rehearsal's timings waited for the CPU enough to say so. */
    static final double BUSY_SHARE = 0.8;
    /** Samples with fewer warm rows than this are timed with a cold JIT (see {@link CostMeter}). */
    static final long WARM_ROWS = 2 * CostMeter.WARMUP_ROWS;

    /**
     * The measured conditions one projection rests on.
     *
     * @param rows         estimated rows of the table
     * @param costMicros   the rehearsal's measured cost per sampled row (all four steps)
     * @param eventBytes   the sample's average event size (raw event or row change, the larger)
     * @param sampledRows  rows the sample had
     * @param cores        cores of the machine the rehearsal ran on
     * @param cpuShare     the share of a core a thread got while the rehearsal ran ({@link CpuShare}): 1 on a quiet machine
     * @param stagesPerJvm 3 for {@code up}; 1 when the stages run as separate services (other machines, a network)
     */
    public record Conditions(long rows, double costMicros, long eventBytes, long sampledRows, int cores, double cpuShare, int stagesPerJvm) {
    }

    /**
     * @param seconds      the model's estimate
     * @param lowSeconds   the least it may take; equals {@code highSeconds} bounds of ±{@link #error} when nothing else is unknown
     * @param highSeconds  the most it may take
     * @param reasons      why the range is wider than the model's own error; empty when it is not
     */
    public record Estimate(double seconds, double lowSeconds, double highSeconds, List<String> reasons) {
        public Estimate {
            reasons = List.copyOf(reasons);
        }
    }

    public Estimate project(Conditions c) {
        int parallel = Math.max(1, Math.min(c.cores(), 4));
        double share = Math.max(0.01, Math.min(1, c.cpuShare()));
        // The rehearsal's timings are wall clock: on a busy machine they include the wait for a core. Scaled by the
        // share of a core it got, they are what the work costs on a quiet one, which is what the estimate is for.
        double perRow = c.costMicros() * share + perRecordMicros + perByteMicros * c.eventBytes();
        double seconds = startupSeconds + c.rows() * perRow / parallel / 1e6;
        double low = seconds * (1 - error);
        double high = seconds * (1 + error);
        List<String> reasons = new ArrayList<>();
        if (share < BUSY_SHARE) {
            // If the other work goes on, the pipeline gets about the same share of the cores, and spends more CPU per row (contention).
            double loaded = seconds / share * contention;
            high = Math.max(high, loaded);
            reasons.add(String.format(Locale.ROOT, "other work is running here: the rehearsal got %.0f%% of a core, so the estimate is for a"
                    + " quiet machine and, if the load stays, it takes up to %s", share * 100, Human.seconds(loaded)));
        }
        if (c.sampledRows() < WARM_ROWS) {
            low = Math.min(low, startupSeconds);
            reasons.add("the sample (" + c.sampledRows() + " rows) is too small to time warm code; the per-row cost is that of a cold JIT");
        }
        if (c.cores() != calibratedCores) {
            double atCalibration = startupSeconds + c.rows() * perRow / calibratedCores / 1e6;
            low = Math.min(low, seconds * (1 - error));
            high = Math.max(high, atCalibration * (1 + error));
            reasons.add("the pipeline's own cost per record was measured on " + calibratedCores + " cores and this machine has " + c.cores()
                    + "; how well it uses more cores is not measured");
        }
        if (c.eventBytes() > largestCalibratedEventBytes) {
            high = Math.max(high, seconds * 2);
            reasons.add(String.format(Locale.ROOT, "events of %,d bytes are larger than any the model was measured with (%,d)",
                    c.eventBytes(), largestCalibratedEventBytes));
        }
        if (c.stagesPerJvm() < 3) {
            low = Math.min(low, (startupSeconds + c.rows() * perRow / 4 / 1e6) * (1 - error));
            high = Math.max(high, seconds * 2);
            reasons.add("the stages run as separate services (--stages-per-jvm " + c.stagesPerJvm() + "), perhaps on other machines:"
                    + " their cores and the network between them are not measured");
        }
        return new Estimate(seconds, low, high, reasons);
    }
}
