package io.pgbackfill.ops.rehearse;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The target keys seen so far, as 64-bit hashes in an open-addressing table of longs: 8 bytes per key
 * (plus up to 3/4 slack) instead of a String set's ~100, so a multi-million-row sample fits. It stops
 * growing at {@code cap} entries and says so; keys seen after that are still checked against the
 * ones kept. Two different keys share a hash with probability about n²/2⁶⁵ (under 1e-6 at 5 million
 * keys), which would show as one false duplicate.
 */
final class KeyHashSet {
    private final int cap;
    private long[] slots = new long[1 << 12];
    private int size;
    private boolean capHit;

    KeyHashSet(int cap) {
        this.cap = cap;
    }

    /** Adds the key; false if it was already there (a duplicate). */
    boolean add(List<String> key) {
        long h = hash(key);
        int mask = slots.length - 1;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (slots[i] != 0) {
            if (slots[i] == h) {
                return false;
            }
            i = (i + 1) & mask;
        }
        if (size >= cap) {
            capHit = true;
            return true;
        }
        slots[i] = h;
        size++;
        if (size * 4L > slots.length * 3L) {
            grow();
        }
        return true;
    }

    boolean capHit() {
        return capHit;
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        int mask = slots.length - 1;
        for (long h : old) {
            if (h != 0) {
                int i = (int) (h ^ (h >>> 32)) & mask;
                while (slots[i] != 0) {
                    i = (i + 1) & mask;
                }
                slots[i] = h;
            }
        }
    }

    /** FNV-1a over the UTF-8 of each part (NULL and the separator kept apart), then a murmur3 finalizer. Never 0 (0 marks an empty slot). */
    static long hash(List<String> key) {
        long h = 0xcbf29ce484222325L;
        for (String part : key) {
            if (part == null) {
                h = (h ^ 0xff) * 0x100000001b3L;
            } else {
                for (byte b : part.getBytes(StandardCharsets.UTF_8)) {
                    h = (h ^ (b & 0xff)) * 0x100000001b3L;
                }
            }
            h = (h ^ 0xfe) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h == 0 ? 1 : h;
    }
}
