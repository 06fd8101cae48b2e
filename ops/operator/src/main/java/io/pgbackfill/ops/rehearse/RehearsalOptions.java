package io.pgbackfill.ops.rehearse;

import java.time.Duration;

/**
 * How much of each table to read and how gently.
 *
 * @param samplePercent  TABLESAMPLE SYSTEM percentage of pages, or null to size the sample by {@code sampleRows}
 * @param sampleRows     rows to read per table when {@code samplePercent} is null
 * @param seed           REPEATABLE seed of the sample: the same seed on an unchanged table reads the same pages
 * @param rowsPerSecond  read at most this many rows per second; 0 = unthrottled
 * @param maxDlqShare    share of sampled rows that may go to the DLQ and still count as READY
 * @param keyHashCap     most target-key hashes kept for the duplicate check (8 bytes each, plus slack)
 * @param walWindow      how long the source's WAL insert position is watched to measure its write rate
 * @param heapBytes      the heap the pipeline will run with, for the memory estimate; 0 = this JVM's (the same -Xmx)
 * @param stagesPerJvm   stages sharing one heap: 3 for {@code backfill up} (default), 1 for the separate services
 */
public record RehearsalOptions(Double samplePercent, long sampleRows, long seed, long rowsPerSecond, double maxDlqShare,
                               int keyHashCap, Duration walWindow, long heapBytes, int stagesPerJvm) {

    public RehearsalOptions(Double samplePercent, long sampleRows, long seed, long rowsPerSecond, double maxDlqShare, int keyHashCap,
                            Duration walWindow) {
        this(samplePercent, sampleRows, seed, rowsPerSecond, maxDlqShare, keyHashCap, walWindow, 0, 3);
    }

    public static final long DEFAULT_ROWS = 100_000;
    public static final int DEFAULT_KEY_HASH_CAP = 5_000_000;

    public RehearsalOptions {
        if (samplePercent != null && !(samplePercent > 0 && samplePercent <= 100)) {
            throw new IllegalArgumentException("--sample must be a percentage in (0, 100], not " + samplePercent);
        }
        if (samplePercent == null && sampleRows < 1) {
            throw new IllegalArgumentException("--rows must be at least 1");
        }
        if (!(maxDlqShare >= 0 && maxDlqShare <= 1)) {
            throw new IllegalArgumentException("--max-dlq-share must be a fraction in [0, 1], not " + maxDlqShare);
        }
        if (stagesPerJvm < 1 || stagesPerJvm > 3) {
            throw new IllegalArgumentException("--stages-per-jvm must be 1, 2 or 3");
        }
        if (keyHashCap < 1) {
            throw new IllegalArgumentException("the key hash cap must be at least 1");
        }
    }
}
