// Memory layout of the single-producer/single-consumer ring that carries requests and responses
// between the main thread and a partition-owner worker. Any thread: constants and pure arithmetic.
//
// One SharedArrayBuffer holds a header of Int32 slots followed by the data region:
//
//   byte  slot  written by       field
//      0     0  Ring.create      MAGIC               0x52494c4c ('RILL'): this buffer is a ring
//      4     1  Ring.create      VERSION             layout version, 1
//      8     2  Ring.create      CAPACITY            bytes in the data region, a power of two
//     12     3  either end       CLOSED              0 open, 1 closed (never reopens)
//     16     4  producer ctor    PRODUCER_CLAIMED    1 once a RingProducer exists for this buffer
//     20     5  consumer ctor    CONSUMER_CLAIMED    1 once a RingConsumer exists for this buffer
//    128    32  producer         HEAD                position just past the last published entry
//    256    64  consumer         TAIL                position just past the last consumed entry
//    384    96  consumer         CONSUMER_SLEEPING   1 while the consumer is (about to be) waiting on HEAD
//    512   128  producer         SPACE_WANTED        free bytes a waiting producer needs; 0 = not waiting
//    640     -  producer         data region         CAPACITY bytes of entries (DATA_OFFSET)
//
// Each field that one thread writes often sits alone in a 128-byte block: cache lines are
// 64 bytes, and Intel's adjacent-line prefetcher pulls lines in 128-byte pairs, so HEAD (stored
// on every write) and TAIL (stored on every drained batch) never share a line that the other
// thread keeps invalidating. The whole header is 640 bytes, nothing next to a 64 KiB+ ring.
//
// Positions (HEAD, TAIL) are free-running byte counters modulo 2^32, kept in Int32 slots: the
// index in the data region is `position & (CAPACITY - 1)` and the bytes in use are
// `(HEAD - TAIL) | 0`. That stays right across the 2^32 wrap because CAPACITY divides 2^32 and is
// at most 2^30. HEAD == TAIL means empty; HEAD - TAIL == CAPACITY means full.
//
// Entry, at an 8-aligned index (all offsets relative to the entry):
//
//   offset  size     field
//        0     4     length     payload bytes, 0 .. maxEntryBytes (host byte order, an Int32 slot)
//        4     4     skew       0-7 bytes left unused before the payload (an Int32 slot)
//    8+skew  length  payload
//        …     0-7   padding    up to the next multiple of ENTRY_ALIGN; not zeroed
//
// Why the skew: V8 copies into a SharedArrayBuffer with relaxed atomic loads and stores, word by
// word only when source and destination have the same address mod 8, else byte by byte.
// Measured here (Node 20): 16 KiB copied in 0.7-1.4 µs with matching alignment and 8 µs
// without; 128 bytes in 26 ns against 72 ns. Frames cut from socket chunks start anywhere, so the
// producer puts the payload at the source's alignment: skew = source.byteOffset & 7 (indexes,
// DATA_OFFSET and ArrayBuffer memory are all 8-aligned). The consumer just skips it.
//
// Wrap marker: an entry is always contiguous (the consumer hands out one view, never a copy),
// so when an entry does not fit in the bytes left before the end of the data region, the
// producer writes WRAP_MARKER in the length slot there, skips the rest, and writes the entry at
// index 0; the skipped bytes count as used until the consumer passes them. Every index is
// 8-aligned and CAPACITY is a multiple of 8, so there are always 8 bytes left for the marker.
//
// Entries are at most half the ring (payload <= CAPACITY / 2 - ENTRY_OVERHEAD_BYTES, so that
// header, skew and padding included an entry takes at most CAPACITY / 2): then an empty ring
// fits any entry wherever HEAD stands (the bytes skipped by a wrap are fewer than the entry's,
// so skip + entry < CAPACITY), and a producer waiting for space is always satisfied once the
// consumer catches up. The protocol layer bounds frames below that.
//
// Recovery stance: none is needed. The ring lives in memory only; when a worker dies, the main
// thread closes both of its rings, and the replacement worker gets new ones. Entries still in
// flight are lost with the worker; whoever sent them times out or gets an error from the layer
// above. A ring is never reattached: each end can be constructed once per buffer.

/** Bytes per header slot (Int32). */
export const SLOT_BYTES = Int32Array.BYTES_PER_ELEMENT;
/** Spacing between fields written by different threads: two 64-byte cache lines (see above). */
export const FIELD_SPACING_BYTES = 128;

// Header slots (Int32 indexes). Byte offset = slot * SLOT_BYTES.
export const MAGIC = 0;
export const VERSION = 1;
export const CAPACITY = 2;
export const CLOSED = 3;
export const PRODUCER_CLAIMED = 4;
export const CONSUMER_CLAIMED = 5;
export const HEAD = (1 * FIELD_SPACING_BYTES) / SLOT_BYTES;
export const TAIL = (2 * FIELD_SPACING_BYTES) / SLOT_BYTES;
export const CONSUMER_SLEEPING = (3 * FIELD_SPACING_BYTES) / SLOT_BYTES;
export const SPACE_WANTED = (4 * FIELD_SPACING_BYTES) / SLOT_BYTES;

/** Where the data region starts; also the header's size. */
export const DATA_OFFSET = 5 * FIELD_SPACING_BYTES;

/** 'RILL' in ASCII. */
export const MAGIC_VALUE = 0x52494c4c;
export const LAYOUT_VERSION = 1;

/** Entry header: the length slot and the skew slot. */
export const ENTRY_HEADER_BYTES = 8;
/** Byte index in the data region >> WORD_SHIFT = Int32 index (indexes are 8-aligned, so exact). */
export const WORD_SHIFT = 2;
/** The entry header's slots, as Int32 indexes from the entry's first word. */
export const LENGTH_WORD = 0;
export const SKEW_WORD = 1;
/** Entries start 8-aligned: both header slots are aligned Int32s, and skews stay within 0-7. */
export const ENTRY_ALIGN = 8;
/** Largest skew: payloads are placed at the source's address mod ENTRY_ALIGN. */
export const MAX_SKEW = ENTRY_ALIGN - 1;
/** What an entry may add to its payload at most: header, skew and padding, rounded up. */
export const ENTRY_OVERHEAD_BYTES = ENTRY_HEADER_BYTES + ENTRY_ALIGN;
/** Length slot value meaning "nothing more before the end of the data region; go to index 0". */
export const WRAP_MARKER = -1;

/**
 * Smallest ring: one 4 KiB page. The broker's rings are megabytes; small rings exist so that
 * tests wrap around often.
 */
export const MIN_CAPACITY_BYTES = 4 * 1024;
/** Largest ring: 1 GiB, so that HEAD - TAIL (at most CAPACITY) never overflows an Int32. */
export const MAX_CAPACITY_BYTES = 1024 * 1024 * 1024;

/** Bytes an entry with `payloadBytes` of payload and `skew` takes in the data region. */
export function entryBytes(payloadBytes: number, skew: number): number {
  return (ENTRY_HEADER_BYTES + skew + payloadBytes + ENTRY_ALIGN - 1) & -ENTRY_ALIGN;
}

/** Largest payload a ring of `capacity` bytes accepts: the whole entry is at most half the ring. */
export function maxEntryBytes(capacity: number): number {
  return capacity / 2 - ENTRY_OVERHEAD_BYTES;
}

/**
 * Free bytes a write of `payloadBytes` with `skew` needs with HEAD at `head`: the entry itself,
 * plus the bytes skipped to the end of the data region when it does not fit before the end.
 */
export function bytesNeeded(capacity: number, head: number, payloadBytes: number, skew: number): number {
  const size = entryBytes(payloadBytes, skew);
  const toEnd = capacity - (head & (capacity - 1));
  return size <= toEnd ? size : toEnd + size;
}

export function isValidCapacity(capacity: number): boolean {
  return (
    Number.isInteger(capacity) &&
    capacity >= MIN_CAPACITY_BYTES &&
    capacity <= MAX_CAPACITY_BYTES &&
    (capacity & (capacity - 1)) === 0
  );
}
