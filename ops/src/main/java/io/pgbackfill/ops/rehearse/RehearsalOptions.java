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
 */
public record RehearsalOptions(Double samplePercent, long sampleRows, long seed, long rowsPerSecond, double maxDlqShare,
                               int keyHashCap, Duration walWindow) {
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
        if (keyHashCap < 1) {
            throw new IllegalArgumentException("the key hash cap must be at least 1");
        }
    }
}
