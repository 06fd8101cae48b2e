package io.pgbackfill.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

/**
 * Dead letters a stage sent, by target table and reason (a reason label, never a message: the set stays small).
 * The stages count; metrics read. A listener hears of each (table, reason) pair the first time it is counted, so
 * a metrics binder can add a series for it without polling.
 */
public final class DeadLetterCounts {
    /** One series: the target table (schema.table) and the reason label. */
    public record Key(String table, String reason) {
    }

    private final Map<Key, AtomicLong> counts = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<Key>> listeners = new CopyOnWriteArrayList<>();

    public void add(String table, String reason) {
        counter(new Key(table, reason)).incrementAndGet();
    }

    /** Makes the pair known with a count of 0 (so a rate over it starts from zero, not from the first letter). */
    public void declare(String table, String reason) {
        counter(new Key(table, reason));
    }

    private AtomicLong counter(Key key) {
        AtomicLong c = counts.get(key);
        if (c != null) {
            return c;
        }
        AtomicLong created = new AtomicLong();
        AtomicLong prior = counts.putIfAbsent(key, created);
        if (prior != null) {
            return prior;
        }
        listeners.forEach(l -> l.accept(key));
        return created;
    }

    public long count(Key key) {
        AtomicLong c = counts.get(key);
        return c == null ? 0 : c.get();
    }

    /** A reader for one pair, for meters that poll. */
    public ToDoubleFunction<DeadLetterCounts> reader(Key key) {
        return d -> d.count(key);
    }

    /** Calls {@code listener} for every pair known now and every pair counted later. */
    public void forEachKey(Consumer<Key> listener) {
        listeners.add(listener);
        counts.keySet().forEach(listener);
    }

    public long total() {
        return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }
}
