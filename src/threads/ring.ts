// The SPSC ring between the main thread and one partition-owner worker; the broker makes two per
// worker, one per direction. Each end is owned by one thread: a RingProducer by the thread that
// writes, a RingConsumer by the thread that reads. Neither end is safe to share between threads;
// the SharedArrayBuffer is what crosses (postMessage or workerData), and each thread constructs
// its own end from it. The memory layout is in ring-layout.ts.
//
// Hand-written rather than taken from a package because it is the broker's hot path: every request
// and response byte crosses it once. A write is one copy into the ring (at the source's alignment,
// see ring-layout.ts), one Atomics.store of HEAD and one Atomics.load of the consumer's sleep flag;
// each entry read is one Uint8Array view; a drained batch costs one Atomics.load of HEAD, one
// Atomics.store of TAIL and one load of the producer's wait slot, whatever its size. Measured in
// one thread here: ~115 ns to write and read a 128-byte entry, ~0.9 µs for 16 KiB (each Atomics
// call ~10 ns, the 128-byte copy ~26 ns, a view ~22 ns).
//
// Backpressure: tryWrite() never blocks and never queues. A full ring makes it return false; the
// caller stops reading the sockets that feed it and awaits waitForSpace(), which resolves with
// true once the consumer has freed enough room (false if the ring is closed). Nothing queues
// without a bound.
//
// Wake-ups never block a thread: both ends wait with Atomics.waitAsync, so a worker's event loop
// keeps running timers and I/O while it waits. Two facts about Node 20, measured here:
//   - Atomics.waitAsync answers synchronously ({ async: false }) when the value already differs;
//     that answer means "something changed, look again".
//   - its pending promise does NOT keep the event loop alive. A worker that only waits on a ring
//     exits as if idle, so something else must hold it open (a parentPort 'message' listener,
//     a server socket, ...). consume() does not, on purpose: it must not keep a thread alive
//     that has otherwise finished.
// No lost wake-ups: a sleeper first announces itself in the header, then re-checks, then waits on
// the value it last saw; the other side first publishes, then looks for the announcement. All
// Atomics operations are sequentially consistent, so of "announce, re-check" and "publish, look"
// at least one side sees the other: either the sleeper sees the new value and does not sleep, or
// the publisher sees the announcement and notifies (and a notify that comes before the waitAsync
// call is harmless, since the value it compares has already changed). Only the sleeper ever
// clears its announcement (see publish() for the wake-up that was lost otherwise), so a notify
// may find nobody waiting; that costs ~0.1 µs. The consumer sleeps on HEAD behind
// CONSUMER_SLEEPING; the producer sleeps on TAIL behind SPACE_WANTED, which holds the free bytes
// it needs so that the consumer wakes it only when they are there.
//
// Files: ring-layout.ts (memory layout), ring-end.ts (what both ends share), ring-producer.ts,
// ring-consumer.ts; this file makes rings.

import {
  CAPACITY,
  DATA_OFFSET,
  LAYOUT_VERSION,
  MAGIC,
  MAGIC_VALUE,
  MAX_CAPACITY_BYTES,
  MIN_CAPACITY_BYTES,
  VERSION,
  isValidCapacity,
} from './ring-layout.js';
import { RingConsumer } from './ring-consumer.js';
import { RingProducer } from './ring-producer.js';

export { RingClosedError } from './ring-end.js';
export { CONSUME_BATCH_ENTRIES, CONSUME_SPIN_CHECKS, RingConsumer, type RingConsumerStats } from './ring-consumer.js';
export { RingProducer, type RingProducerStats } from './ring-producer.js';

export const Ring = Object.freeze({
  /**
   * Allocates a ring of `capacityBytes` data bytes (a power of two from 4 KiB to 1 GiB) plus the
   * header. Hand the buffer to the other thread; each thread builds its end with
   * `new RingProducer(buffer)` or `new RingConsumer(buffer)`.
   */
  create(capacityBytes: number): SharedArrayBuffer {
    if (!isValidCapacity(capacityBytes)) {
      throw new RangeError(
        `ring capacity must be a power of two from ${MIN_CAPACITY_BYTES} to ${MAX_CAPACITY_BYTES} bytes, got ${capacityBytes}`,
      );
    }
    const buffer = new SharedArrayBuffer(DATA_OFFSET + capacityBytes);
    const header = new Int32Array(buffer, 0, DATA_OFFSET / Int32Array.BYTES_PER_ELEMENT);
    header[VERSION] = LAYOUT_VERSION;
    header[CAPACITY] = capacityBytes;
    Atomics.store(header, MAGIC, MAGIC_VALUE); // last: publishes the fields above
    return buffer;
  },
  producer(buffer: SharedArrayBuffer): RingProducer {
    return new RingProducer(buffer);
  },
  consumer(buffer: SharedArrayBuffer): RingConsumer {
    return new RingConsumer(buffer);
  },
});
