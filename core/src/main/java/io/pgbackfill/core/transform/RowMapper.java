package io.pgbackfill.core.transform;

import java.util.Map;

/**
 * The SPI for mappings that expressions cannot say. Name the class in a table's {@code mapper};
 * it needs a public no-argument constructor and must be thread-safe and side-effect free (the same
 * instance maps rows for the transformer, verify and rehearse, and rows may be mapped twice).
 *
 * <p>Input: the source row in canonical form (see {@link io.pgbackfill.core.event.CanonicalValues})
 * and the columns already computed from the table's expressions. Output: the target columns
 * (the computed ones are replaced by what you return), or {@code null} to leave the row out.
 * Throwing sends the row to the dead-letter topic with the exception's message.
 */
public interface RowMapper {
    Map<String, Object> map(Map<String, Object> source, Map<String, Object> computed) throws Exception;
}
