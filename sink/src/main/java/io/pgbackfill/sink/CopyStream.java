package io.pgbackfill.sink;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * {@code COPY … FROM STDIN} in {@link CopyText} format, written value by value: characters are escaped into a fixed
 * buffer and sent in chunks of UTF-8, so a batch of large rows is never held a second (and third) time as one text and
 * one byte array. A surrogate pair (an emoji) is never split across two chunks: pgjdbc's Reader variant does that and
 * turns it into "??".
 */
final class CopyStream implements AutoCloseable {
    private static final int CHUNK = 32 * 1024;
    private final CopyIn copy;
    private final char[] chars = new char[CHUNK];
    private final ByteBuffer bytes = ByteBuffer.allocate(CHUNK * 3 + 8);
    private final CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    private int used;
    private boolean finished;

    private CopyStream(CopyIn copy) {
        this.copy = copy;
    }

    static CopyStream open(Connection c, String sql) throws SQLException {
        return new CopyStream(c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql));
    }

    /** One value, escaped ({@code \N} for NULL). */
    CopyStream value(String v) throws SQLException {
        if (v == null) {
            put('\\');
            put('N');
            return this;
        }
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            switch (ch) {
                case '\\' -> {
                    put('\\');
                    put('\\');
                }
                case '\t' -> {
                    put('\\');
                    put('t');
                }
                case '\n' -> {
                    put('\\');
                    put('n');
                }
                case '\r' -> {
                    put('\\');
                    put('r');
                }
                default -> put(ch);
            }
        }
        return this;
    }

    /** Text that needs no escaping: a number, a tab, the end of a row. */
    CopyStream raw(String s) throws SQLException {
        for (int i = 0; i < s.length(); i++) {
            put(s.charAt(i));
        }
        return this;
    }

    CopyStream raw(char ch) throws SQLException {
        put(ch);
        return this;
    }

    /** Ends the COPY; returns the rows copied. */
    long finish() throws SQLException {
        drain(true);
        finished = true;
        return copy.endCopy();
    }

    private void put(char ch) throws SQLException {
        if (used == chars.length) {
            drain(false);
        }
        chars[used++] = ch;
    }

    private void drain(boolean end) throws SQLException {
        int len = used;
        if (!end && len > 0 && Character.isHighSurrogate(chars[len - 1])) {
            len--; // keep it with its low half, in the next chunk
        }
        bytes.clear();
        utf8.encode(CharBuffer.wrap(chars, 0, len), bytes, end);
        if (end) {
            utf8.flush(bytes);
            utf8.reset();
        }
        if (bytes.position() > 0) {
            copy.writeToCopy(bytes.array(), 0, bytes.position());
        }
        if (len < used) {
            chars[0] = chars[len];
            used = 1;
        } else {
            used = 0;
        }
    }

    @Override
    public void close() throws SQLException {
        if (!finished && copy.isActive()) {
            copy.cancelCopy();
        }
    }
}
