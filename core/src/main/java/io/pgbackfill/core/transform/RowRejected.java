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
        SCHEMA_CHANGED("source schema changed");

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

    public RowRejected(Reason reason, String column, String message) {
        super(message, null, false, false);
        this.reason = reason;
        this.column = column;
    }

    public Reason reason() {
        return reason;
    }

    public String column() {
        return column;
    }
}
