package io.pgbackfill.core.transform;

/** A row that cannot be mapped into the target. It goes to the dead-letter topic with this reason. */
public class RowRejected extends Exception {
    /** Why, in the words a data engineer searches for. */
    public enum Reason {
        EXPRESSION_ERROR("expression error"),
        CAST_FAILURE("cast failure"),
        NUMERIC_OVERFLOW("numeric overflow"),
        NOT_NULL("NULL into NOT NULL"),
        VALUE_TOO_LONG("value too long"),
        INVALID_TEXT("invalid text"),
        TOAST_UNAVAILABLE("unchanged TOAST value needed"),
        MAPPER_ERROR("mapper error"),
        DATABASE_REJECTED("rejected by the target database"),
        DUPLICATE_TARGET_KEY("duplicate target key"),
        SCHEMA_CHANGED("source schema changed"),
        /** The spec said so: {@code reject('why')}. The reason text is the author's. */
        REJECTED("rejected by the spec");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Reason reason;
    private final String column;
    private final String authorReason;

    public RowRejected(Reason reason, String column, String message) {
        this(reason, column, message, null);
    }

    /** {@code authorReason}: the spec's own words for a {@link Reason#REJECTED} row, else null. */
    public RowRejected(Reason reason, String column, String message, String authorReason) {
        super(message, null, false, false);
        this.reason = reason;
        this.column = column;
        this.authorReason = authorReason;
    }

    /**
     * The reason as the dead-letter record states it: the reason's label, followed by the spec author's words
     * for a row rejected with {@code reject('why')} ({@code rejected by the spec: unknown status 'x'}).
     */
    public String reasonText() {
        if (authorReason == null) {
            return reason.label();
        }
        return reason.label() + ": " + (authorReason.length() > 200 ? authorReason.substring(0, 200) + "…" : authorReason);
    }

    public Reason reason() {
        return reason;
    }

    public String column() {
        return column;
    }
}
