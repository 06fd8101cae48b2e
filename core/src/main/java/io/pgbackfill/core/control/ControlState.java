package io.pgbackfill.core.control;

import java.util.Map;
import java.util.Optional;

/**
 * What the control topic says now: the latest entry per key. Keys (the wire format, defined only here):
 * <ul>
 *   <li>{@value #PAUSE}: present = paused (snapshot reads and the sink's writes wait; the WAL keeps streaming into Kafka)</li>
 *   <li>{@value #RATE_LIMIT}: the snapshot's rows per second</li>
 *   <li>{@value #CHUNK_SIZE}: rows the snapshot reads between two pacing decisions</li>
 *   <li>{@value #CUTOVER}: {@code postponed} (a cutover waits) or {@code cancelled} (a waiting cutover gives up)</li>
 *   <li>{@value #THROTTLE}: the producer's last throttle report: {@code clear}, {@code throttled} or {@code critical}</li>
 * </ul>
 */
public record ControlState(Map<String, ControlEntry> entries) {
    public static final String PAUSE = "pause";
    public static final String RATE_LIMIT = "rate-limit";
    public static final String CHUNK_SIZE = "chunk-size";
    public static final String CUTOVER = "cutover";
    public static final String THROTTLE = "throttle";
    public static final ControlState EMPTY = new ControlState(Map.of());

    public ControlState {
        entries = Map.copyOf(entries);
    }

    public Optional<ControlEntry> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    public Optional<ControlEntry> pause() {
        return get(PAUSE);
    }

    public boolean paused() {
        return entries.containsKey(PAUSE);
    }

    /** Rows per second, or null for no limit; {@code fallback} (the spec's) when the topic says nothing. */
    public Long rateLimit(Long fallback) {
        ControlEntry e = entries.get(RATE_LIMIT);
        return e == null ? fallback : Long.valueOf(e.value());
    }

    public Integer chunkSize(Integer fallback) {
        ControlEntry e = entries.get(CHUNK_SIZE);
        return e == null ? fallback : Integer.valueOf(e.value());
    }

    /** The producer's throttle report, if it throttles now. */
    public Optional<ControlEntry> throttled() {
        return get(THROTTLE).filter(e -> !"clear".equals(e.value()));
    }

    public Optional<ControlEntry> cutover() {
        return get(CUTOVER);
    }
}
