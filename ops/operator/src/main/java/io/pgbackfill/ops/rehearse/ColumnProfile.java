package io.pgbackfill.ops.rehearse;

import io.pgbackfill.core.catalog.Column;

/**
 * One target column over the sample, in constant memory: how often it is NULL, its longest value in
 * characters and largest in bytes (as the sink would send it), how many values do not fit the column,
 * and a histogram of value lengths in powers of two (bucket 0 = empty, bucket k = 2^(k-1) .. 2^k - 1 chars).
 */
public final class ColumnProfile {
    static final int BUCKETS = 33;

    private final Column column;
    private long values;
    private long nulls;
    private long longestChars;
    private long largestBytes;
    private long misfits;
    private final long[] lengths = new long[BUCKETS];

    ColumnProfile(Column column) {
        this.column = column;
    }

    /** A value as SQL text (null = SQL NULL). */
    void observe(String text) {
        values++;
        if (text == null) {
            nulls++;
            return;
        }
        long chars = text.codePointCount(0, text.length());
        longestChars = Math.max(longestChars, chars);
        largestBytes = Math.max(largestBytes, utf8Length(text));
        lengths[chars == 0 ? 0 : Math.min(BUCKETS - 1, 64 - Long.numberOfLeadingZeros(chars))]++;
    }

    /** A value the target column would not accept (wrong type, too long, NULL into NOT NULL, …). */
    void misfit() {
        misfits++;
    }

    public Column column() {
        return column;
    }

    public long values() {
        return values;
    }

    public double nullShare() {
        return values == 0 ? 0 : (double) nulls / values;
    }

    public long longestChars() {
        return longestChars;
    }

    public long largestBytes() {
        return largestBytes;
    }

    public long misfits() {
        return misfits;
    }

    public long[] lengthHistogram() {
        return lengths.clone();
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x80) {
                n++;
            } else if (ch < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
