package io.pgbackfill.producer;

import io.pgbackfill.core.Redaction;
import io.pgbackfill.core.catalog.Column;
import io.pgbackfill.core.catalog.TableSchema;
import io.pgbackfill.core.event.CanonicalValues;
import io.pgbackfill.core.event.ChangeEvent;
import io.pgbackfill.core.event.EventCodec;
import io.pgbackfill.core.spec.PipelineSpec;
import io.pgbackfill.core.sql.SqlIdentifier;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pgbackfill's own chunked snapshot, interleaved with streaming (DBLog, Netflix): a reader thread reads each table in
 * chunks by primary key, each chunk between a low and a high window mark written to the source; the stream thread
 * (the producer's Debezium batch handler) sees both marks in commit order, notes the keys the stream changed between
 * them, and at the high mark emits the chunk's other rows to Kafka, in order with the stream. A row changed inside the
 * window is dropped from the chunk: its change is streamed. No transaction lasts longer than one chunk's SELECT.
 *
 * <p>Marks: updates of this pipeline's window row in the heartbeat table ({@link SourceSetup#windowMarkRow}), whose
 * {@code fence} column takes increasing values. Only this reader writes that row, so a mark is recognised by its value,
 * and marks of an earlier run replayed by the stream (lower values) are ignored.
 *
 * <p>Rows read carry no LSN (version 0), as Debezium's incremental snapshot rows do: they fill a key the target lacks
 * and never overwrite a streamed version. Each chunk's last key reaches {@code resumeAfter} once Kafka has acknowledged
 * the chunk; a restart reads the rows after it. Memory: at most two chunks are read and not yet emitted.
 *
 * <p>Pacing: {@link ChunkGate#beforeChunk} is called before each chunk and may block (backlog, throttle, pause).
 */
final class ChunkedSnapshot implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkedSnapshot.class);
    private static final int CHUNKS_IN_FLIGHT = 2;

    /** One read row, encoded once on the reader thread: {@code keyId} is its key bytes as a string, for the window set. */
    record Row(String keyId, byte[] key, byte[] value) {
    }

    /** A chunk between its marks; the stream thread owns {@code changed} and {@code open}. */
    static final class Window {
        final String table;
        final String topic;
        final long low;
        final long high;
        final Set<String> changed = new HashSet<>();
        boolean open;
        boolean truncated;
        volatile List<Row> rows;
        volatile Map<String, Object> lastKey;
        volatile boolean last;

        Window(String table, String topic, long low, long high) {
            this.table = table;
            this.topic = topic;
            this.low = low;
            this.high = high;
        }

        /** The rows to send: the chunk without the keys the stream changed inside the window. */
        List<Row> survivors() {
            if (truncated) {
                return List.of();
            }
            if (changed.isEmpty()) {
                return rows;
            }
            return rows.stream().filter(r -> !changed.contains(r.keyId())).toList();
        }
    }

    /** What the producer does once a chunk is in Kafka. */
    interface Progress {
        void emitted(String table, Map<String, Object> lastKey, long rowsRead, boolean last);
    }

    private final PipelineSpec spec;
    private final Map<String, TableSchema> schemas;
    private final Map<String, String> topics;
    private final List<String> tables;
    private final Map<String, Map<String, Object>> resumeAfter;
    private final int chunkRows;
    private final int fetchRows;
    private final ChunkGate pacer;
    /** Rows per chunk in force, asked before each chunk (a runtime chunk size, lowered to the byte budget). */
    private final java.util.function.IntSupplier chunkSize;
    private int currentChunkRows;
    private final Progress progress;
    private final java.util.function.Consumer<Throwable> onFatal;
    private final String markRow;
    private final ArrayDeque<Window> windows = new ArrayDeque<>();
    private final Semaphore inFlight = new Semaphore(CHUNKS_IN_FLIGHT);
    private Thread reader;
    private volatile boolean running;
    private long markCounter;

    ChunkedSnapshot(PipelineSpec spec, Map<String, TableSchema> schemas, Map<String, String> topics, List<String> tables,
                    Map<String, Map<String, Object>> resumeAfter, int chunkRows, java.util.function.IntSupplier chunkSize, int fetchRows, ChunkGate pacer, Progress progress,
                    java.util.function.Consumer<Throwable> onFatal) {
        this.spec = spec;
        this.schemas = schemas;
        this.topics = topics;
        this.tables = List.copyOf(tables);
        this.resumeAfter = new LinkedHashMap<>(resumeAfter);
        this.chunkRows = chunkRows;
        this.chunkSize = chunkSize;
        this.currentChunkRows = chunkRows;
        this.fetchRows = Math.max(1, Math.min(fetchRows, chunkRows));
        this.pacer = pacer;
        this.progress = progress;
        this.onFatal = onFatal;
        this.markRow = SourceSetup.windowMarkRow(spec);
        for (String t : tables) {
            TableSchema s = schemas.get(t);
            if (s == null || s.primaryKey().isEmpty()) {
                throw new IllegalArgumentException("table " + t + " has no primary key: the chunked snapshot reads by key. "
                        + "Give it one, or set snapshot.mode: initial in the spec");
            }
        }
    }

    void start() {
        running = true;
        reader = new Thread(this::readAll, "pgbackfill-snapshot-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** True for this pipeline's window marks (heartbeat-table rows of its own window row). */
    boolean isMark(ChangeEvent e) {
        return e.after() != null && markRow.equals(e.after().get("pipeline"));
    }

    /** Stream thread: a window mark; returns the window it closes, whose rows are to be sent now, or null. */
    synchronized Window onMark(ChangeEvent e) {
        Object f = e.after().get("fence");
        long value = f instanceof Number n ? n.longValue() : Long.parseLong(String.valueOf(f));
        Window head = windows.peekFirst();
        if (head == null) {
            return null;
        }
        if (value == head.low) {
            head.open = true;
        } else if (value == head.high) {
            windows.pollFirst();
            return head;
        }
        return null;
    }

    /** Stream thread: a change of {@code table}'s row {@code keyId} (its key bytes as a string). */
    synchronized void onChange(String table, String keyId) {
        Window head = windows.peekFirst();
        if (head != null && head.open && head.table.equals(table)) {
            head.changed.add(keyId);
        }
    }

    /** Stream thread: a truncate inside a window drops the whole chunk (it may have been read before the truncate). */
    synchronized void onTruncate(String table) {
        Window head = windows.peekFirst();
        if (head != null && head.open && head.table.equals(table)) {
            head.truncated = true;
        }
    }

    /** Stream thread, after Kafka acknowledged the window's rows. */
    void emitted(Window w) {
        progress.emitted(w.table, w.lastKey, w.rows.size(), w.last);
        inFlight.release();
    }

    static String keyId(byte[] key) {
        return new String(key, StandardCharsets.ISO_8859_1);
    }

    private void readAll() {
        try (Connection c = spec.source().open()) {
            markCounter = initMarks(c);
        } catch (SQLException e) {
            // Start over in a moment: the source may be restarting.
            LOG.warn("chunked snapshot cannot start yet: {}", redact(e));
        }
        long backoff = 500;
        Connection c = null;
        try {
            for (String table : tables) {
                Map<String, Object> after = resumeAfter.get(table);
                LOG.info("chunked snapshot of {}: chunks of {} rows{}", table, chunkRows, after == null ? "" : ", after key " + after);
                boolean last = false;
                while (running && !last) {
                    pacer.beforeChunk(table);
                    currentChunkRows = Math.max(1, chunkSize.getAsInt());
                    inFlight.acquire();
                    Window w = null;
                    try {
                        if (c == null || c.isClosed()) {
                            c = spec.source().open();
                            markCounter = Math.max(markCounter, initMarks(c));
                        }
                        w = read(c, table, after);
                        after = w.lastKey == null ? after : w.lastKey;
                        last = w.last;
                        backoff = 500;
                    } catch (SQLException | RuntimeException e) {
                        if (w == null) {
                            inFlight.release();
                        }
                        if (!running) {
                            return;
                        }
                        LOG.warn("chunked snapshot of {}: a chunk failed, reading it again in {} ms: {}", table, backoff, redact(e));
                        closeQuietly(c);
                        c = null;
                        Thread.sleep(backoff);
                        backoff = Math.min(10_000, backoff * 2);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            if (running) {
                onFatal.accept(t);
            }
        } finally {
            closeQuietly(c);
        }
    }

    /** Creates the window row if needed and returns its current mark value; later marks only grow from there. */
    private long initMarks(Connection c) throws SQLException {
        c.setAutoCommit(true);
        try (var st = c.createStatement()) {
            st.execute("SET TimeZone = 'UTC'"); // timestamptz text in UTC: read without a date parser (timestamptz below)
            st.execute("SET DateStyle = 'ISO'");
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE
                + " (pipeline, fence) VALUES (?, 0) ON CONFLICT DO NOTHING")) {
            ps.setString(1, markRow);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT fence FROM " + SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE + " WHERE pipeline = ?")) {
            ps.setString(1, markRow);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** Low mark, the chunk's SELECT (one statement: one snapshot), high mark. The window is queued before its low mark. */
    private Window read(Connection c, String table, Map<String, Object> after) throws SQLException {
        long low = ++markCounter;
        long high = ++markCounter;
        Window w = new Window(table, topics.get(table), low, high);
        synchronized (this) {
            windows.addLast(w);
        }
        try {
            mark(c, low);
            readRows(c, w, schemas.get(table), after);
            mark(c, high);
            return w;
        } catch (SQLException | RuntimeException e) {
            synchronized (this) {
                windows.remove(w); // its high mark, if it was written after all, closes nothing
            }
            throw e;
        }
    }

    private void mark(Connection c, long value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE
                + " SET fence = ?, beat_at = now() WHERE pipeline = ?")) {
            ps.setLong(1, value);
            ps.setString(2, markRow);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("the snapshot's window row " + markRow + " is missing from " + SourceSetup.SCHEMA + "." + SourceSetup.HEARTBEAT_TABLE);
            }
        }
    }

    private void readRows(Connection c, Window w, TableSchema schema, Map<String, Object> after) throws SQLException {
        List<Column> cols = new ArrayList<>(schema.columns().values());
        List<String> key = schema.primaryKey();
        int[] keyPos = new int[key.size()];
        for (int k = 0; k < key.size(); k++) {
            for (int i = 0; i < cols.size(); i++) {
                if (cols.get(i).name().equals(key.get(k))) {
                    keyPos[k] = i;
                }
            }
        }
        String order = key.stream().map(k -> SqlIdentifier.of(k).quoted()).collect(Collectors.joining(", "));
        String sql = "SELECT " + cols.stream().map(col -> SqlIdentifier.of(col.name()).quoted()).collect(Collectors.joining(", "))
                + " FROM " + schema.name().quoted() + (after == null ? "" : " WHERE " + KeyCondition.after(schema, after))
                + " ORDER BY " + order + " LIMIT " + currentChunkRows;
        List<Row> rows = new ArrayList<>(Math.min(currentChunkRows, 1 << 16));
        Map<String, Object> lastKey = null;
        long tsMs = System.currentTimeMillis();
        String[] names = cols.stream().map(Column::name).toArray(String[]::new);
        boolean[] utcText = new boolean[cols.size()];
        for (int i = 0; i < cols.size(); i++) {
            utcText[i] = cols.get(i).type().kind() == io.pgbackfill.core.catalog.ColumnType.Kind.TIMESTAMPTZ;
        }
        // A transaction only so that pgjdbc fetches in rounds (a cursor) instead of holding the whole chunk twice.
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setFetchSize(fetchRows);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> values = new LinkedHashMap<>(cols.size() * 2);
                    for (int i = 0; i < cols.size(); i++) {
                        values.put(names[i], utcText[i] ? timestamptz(rs, i + 1, cols.get(i)) : CanonicalValues.fromJdbc(rs, i + 1, cols.get(i).type()));
                    }
                    Map<String, Object> k = new LinkedHashMap<>(key.size() * 2);
                    for (int j = 0; j < keyPos.length; j++) {
                        k.put(names[keyPos[j]], values.get(names[keyPos[j]]));
                    }
                    byte[] keyBytes = EventCodec.encodeKey(k);
                    byte[] value = EventCodec.encode(new ChangeEvent(ChangeEvent.READ, schema.name().id(), 0, tsMs, true, k, values, null, null));
                    rows.add(new Row(keyId(keyBytes), keyBytes, value));
                    lastKey = k;
                }
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is replaced anyway
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
        w.lastKey = lastKey;
        w.last = rows.size() < currentChunkRows;
        w.rows = rows;
    }

    /** timestamptz from the server's text (the session is in UTC, ISO style): no date parsing for ordinary values. */
    private static Object timestamptz(ResultSet rs, int i, Column col) throws SQLException {
        String text = rs.getString(i);
        if (text == null) {
            return null;
        }
        String fast = CanonicalValues.timestamptzFromUtcText(text);
        return fast != null ? fast : CanonicalValues.fromJdbc(rs, i, col.type());
    }

    private String redact(Exception e) {
        return Redaction.redact(String.valueOf(e.getMessage()), spec.source().secret());
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing a broken connection
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (reader != null) {
            reader.interrupt();
            reader.join(10_000);
        }
    }
}
