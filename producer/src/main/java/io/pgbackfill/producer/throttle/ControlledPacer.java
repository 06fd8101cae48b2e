package io.pgbackfill.producer.throttle;

import io.pgbackfill.core.control.ControlState;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The pacer behind {@link SnapshotPacer}: holds while the pipeline is paused (control topic) or the source's health
 * throttles ({@link SourceThrottle}), and keeps the snapshot at the rate limit in force with a token bucket of at most
 * one chunk (or one second of rows, if smaller), so a new limit shows in the measured rate within a second or a chunk.
 * Counts the milliseconds it held, by reason (metrics).
 */
public final class ControlledPacer implements SnapshotPacer {
    private static final long SLICE_MS = 100;
    private final Supplier<ControlState> control;
    private final Long specRate;
    private final int specChunk;
    private volatile ThrottleVerdict verdict = ThrottleVerdict.CLEAR;
    private volatile boolean closed;
    private final Map<String, AtomicLong> heldMillis = new ConcurrentHashMap<>();
    private double tokens;
    private long refilledAt = System.nanoTime();

    public ControlledPacer(Supplier<ControlState> control, Long specRate, int specChunk) {
        this.control = control;
        this.specRate = specRate;
        this.specChunk = specChunk;
    }

    void verdict(ThrottleVerdict v) {
        this.verdict = v;
    }

    public ThrottleVerdict verdict() {
        return verdict;
    }

    /** Rows per second in force, or null. */
    public Long rateLimit() {
        return control.get().rateLimit(specRate);
    }

    /** Why the snapshot waits now, without the rate limit: {@code paused}, {@code throttle:<check>}, or null. */
    public String holdReason() {
        if (closed) {
            return null;
        }
        if (control.get().paused()) {
            return "paused";
        }
        ThrottleVerdict v = verdict;
        return v.throttles() ? "throttle:" + v.check() : null;
    }

    @Override
    public void admit(int rows) throws InterruptedException {
        if (rows <= 0) {
            return;
        }
        waitWhileHeld();
        Long rate = rateLimit();
        if (rate == null) {
            return;
        }
        take(rows, rate);
        while (!closed) {
            rate = rateLimit();
            double missing = rate == null ? 0 : -balance(rate);
            if (missing <= 0) {
                return;
            }
            long ms = Math.max(1, Math.min(SLICE_MS, (long) Math.ceil(missing * 1000 / rate)));
            Thread.sleep(ms);
            count("rate-limit", ms);
            waitWhileHeld();
        }
    }

    private void waitWhileHeld() throws InterruptedException {
        for (String why = holdReason(); why != null; why = holdReason()) {
            Thread.sleep(SLICE_MS);
            count(why, SLICE_MS);
        }
    }

    @Override
    public void record(int rows) {
        Long rate = rateLimit();
        if (rows > 0 && rate != null) {
            take(rows, rate);
        }
    }

    @Override
    public boolean holding() {
        if (holdReason() != null) {
            return true;
        }
        Long rate = rateLimit();
        return rate != null && balance(rate) < 0;
    }

    /** {@link #holding()}'s reason, the rate limit included; null when the snapshot may go on. */
    public String holdingReason() {
        String why = holdReason();
        if (why != null) {
            return why;
        }
        Long rate = rateLimit();
        return rate != null && balance(rate) < 0 ? "rate-limit" : null;
    }

    @Override
    public int chunkSize(int configured) {
        return control.get().chunkSize(configured);
    }

    private synchronized void take(int rows, long rate) {
        balance(rate);
        tokens -= rows;
    }

    /** Refills the bucket at {@code rate} rows/s, capped at a chunk or a second of rows; returns the balance. */
    private synchronized double balance(long rate) {
        long now = System.nanoTime();
        double cap = Math.max(1, Math.min(chunkSize(specChunk), rate));
        tokens = Math.min(cap, tokens + (now - refilledAt) / 1e9 * rate);
        refilledAt = now;
        return tokens;
    }

    void count(String reason, long ms) {
        heldMillis.computeIfAbsent(reason, r -> new AtomicLong()).addAndGet(ms);
    }

    /** Milliseconds the snapshot was held, by reason ({@code paused}, {@code throttle:<check>}, {@code rate-limit}). */
    public Map<String, Long> heldMillis() {
        Map<String, Long> out = new java.util.TreeMap<>();
        heldMillis.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Releases a reader waiting in {@link #admit} (the producer is closing). */
    public void close() {
        closed = true;
    }
}
