// The reading end of a ring. Owned by one thread (single consumer); see ring.ts for the design.

import {
  CONSUMER_CLAIMED,
  CONSUMER_SLEEPING,
  DATA_OFFSET,
  ENTRY_HEADER_BYTES,
  HEAD,
  MAX_SKEW,
  LENGTH_WORD,
  SKEW_WORD,
  WORD_SHIFT,
  SPACE_WANTED,
  TAIL,
  WRAP_MARKER,
  entryBytes,
  maxEntryBytes,
} from './ring-layout.js';
import { FALSE, RingEnd, TRUE, waitAsync } from './ring-end.js';

/**
 * Entries a consume() loop delivers, in as many drains as it takes, before it yields to the event
 * loop: at ~30 ns of ring work per entry that is ~0.1 ms plus the callbacks' own time, so a
 * flooded worker still runs its timers and I/O, while the yield (one setImmediate, a few µs)
 * stays around 1% of the work.
 */
export const CONSUME_BATCH_ENTRIES = 4096;

/**
 * Checks of HEAD (10-17 ns each here, so 5-9 µs) that consume() makes on an empty ring before it
 * goes to sleep. Measured here: waking a sleeper costs the writing thread ~3 µs in
 * Atomics.notify (the main thread, which every byte crosses) and the sleeper 7-10 µs before it
 * runs again, while a steady writer publishes a 16 KiB entry every ~1.5 µs. In the benchmark the
 * spin cut the consumer's sleeps 3-5 fold; it costs an idle worker at most those 5-9 µs of CPU
 * each time its ring runs dry.
 */
export const CONSUME_SPIN_CHECKS = 512;

export interface RingConsumerStats {
  /** Entries delivered. */
  entries: number;
  /** Payload bytes delivered. */
  bytes: number;
  /** drain() calls that delivered at least one entry: entries / batches is the batch size. */
  batches: number;
  /** Times waitForData actually went to sleep (rather than finding data at once). */
  waits: number;
}

/** The reading end. Owned by one thread; single consumer. */
export class RingConsumer extends RingEnd {
  /** Our TAIL; only this end writes TAIL. */
  private tail: number;
  private dataWaiter: Promise<boolean> | null = null;
  private nEntries = 0;
  private nBytes = 0;
  private nBatches = 0;
  private nWaits = 0;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer, CONSUMER_CLAIMED, 'consumer');
    this.tail = Atomics.load(this.header, TAIL);
  }

  get stats(): RingConsumerStats {
    return { entries: this.nEntries, bytes: this.nBytes, batches: this.nBatches, waits: this.nWaits };
  }

  /** Whether published entries are waiting to be drained. */
  get hasData(): boolean {
    return Atomics.load(this.header, HEAD) !== this.tail;
  }

  /**
   * Delivers the entries published so far, oldest first, up to `maxEntries`, and returns how many
   * it delivered (0 when the ring is empty). TAIL advances once, after the batch, so the space
   * comes back to the producer then.
   *
   * `entry` is a view into the ring, valid only during the callback: once the callback returns,
   * the producer may overwrite those bytes. Copy (entry.slice()) what must outlive it.
   *
   * If onEntry throws, the entries delivered so far, the throwing one included, count as consumed
   * and the error propagates. Not re-entrant: onEntry must not drain this ring itself.
   */
  drain(onEntry: (entry: Uint8Array) => void, maxEntries = Number.POSITIVE_INFINITY): number {
    const head = Atomics.load(this.header, HEAD);
    let tail = this.tail;
    if (tail === head) return 0;
    const { buffer, words, mask, capacity, maxEntryBytes } = this;
    let count = 0;
    let bytes = 0;
    try {
      while (tail !== head && count < maxEntries) {
        const index = tail & mask;
        const word = index >> WORD_SHIFT;
        const length = words[word + LENGTH_WORD];
        if (length === WRAP_MARKER) {
          tail = (tail + capacity - index) | 0;
          continue;
        }
        const skew = words[word + SKEW_WORD];
        if (length < 0 || length > maxEntryBytes || skew < 0 || skew > MAX_SKEW) {
          throw new Error(`ring corrupted: entry at index ${index} has length ${length} (limit ${maxEntryBytes}) and skew ${skew}`);
        }
        tail = (tail + entryBytes(length, skew)) | 0;
        count++;
        bytes += length;
        // A fresh view over the buffer: ~22 ns here, where data.subarray() takes ~80 ns.
        onEntry(new Uint8Array(buffer, DATA_OFFSET + index + ENTRY_HEADER_BYTES + skew, length));
      }
    } finally {
      this.nEntries += count;
      this.nBytes += bytes;
      if (count > 0) this.nBatches++;
      this.release(tail);
    }
    return count;
  }

  /**
   * Resolves with true when there is data to drain (at once if there is already), and with false
   * once the ring is closed and everything published before the close has been drained, so that
   * `while (await c.waitForData()) c.drain(onEntry);` ends by itself. Never rejects. While one
   * call is pending, further calls share it.
   *
   * Its pending promise does not keep the thread's event loop alive (see the header comment).
   */
  waitForData(): Promise<boolean> {
    // `closed` first: entries published before the close are visible once the close is.
    const closed = this.closed;
    if (this.hasData) return TRUE;
    if (closed) return FALSE;
    if (this.dataWaiter === null) {
      this.dataWaiter = this.sleepUntilData().finally(() => {
        this.dataWaiter = null;
      });
    }
    return this.dataWaiter;
  }

  /**
   * Drains batch after batch, yielding to the event loop after every CONSUME_BATCH_ENTRIES
   * entries; when the ring is empty, checks it CONSUME_SPIN_CHECKS more times, then sleeps with
   * waitForData(). Resolves once the ring is closed and everything published before the close
   * is delivered, or when `signal` aborts. Rejects if onEntry throws (that entry counts as
   * consumed). Entry views follow drain()'s rule.
   *
   * It does not keep the event loop alive while it sleeps: a worker needs something else to stay
   * up (its parentPort listener, say), or it exits as soon as its ring runs empty.
   */
  async consume(onEntry: (entry: Uint8Array) => void, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    // An abort ends the loop at once; a waitForData() still pending then simply resolves later,
    // on the next write or on close, and holds nothing meanwhile.
    let onAbort = () => {};
    const aborted = signal === undefined ? null : new Promise<false>((resolve) => (onAbort = () => resolve(false)));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let sinceYield = 0;
      for (;;) {
        const delivered = this.drain(onEntry, CONSUME_BATCH_ENTRIES - sinceYield);
        if (signal?.aborted) return;
        sinceYield += delivered;
        if (sinceYield >= CONSUME_BATCH_ENTRIES) {
          await yieldToEventLoop();
          sinceYield = 0;
          if (signal?.aborted) return;
        } else if (delivered === 0) {
          if (this.spinForData()) continue;
          // waitForData() looks again before it sleeps: entries may have come since the spin.
          const more = aborted === null ? await this.waitForData() : await Promise.race([this.waitForData(), aborted]);
          if (!more) return; // closed and drained, or aborted
        }
        // Otherwise drain again at once: more may have been published during the batch.
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Whether data arrives within CONSUME_SPIN_CHECKS checks of HEAD. */
  private spinForData(): boolean {
    const header = this.header;
    const tail = this.tail;
    for (let i = 0; i < CONSUME_SPIN_CHECKS; i++) {
      if (Atomics.load(header, HEAD) !== tail) return true;
    }
    return false;
  }

  private async sleepUntilData(): Promise<boolean> {
    this.nWaits++;
    const header = this.header;
    try {
      for (;;) {
        // Announce first, then re-check: see the header comment on lost wake-ups.
        Atomics.store(header, CONSUMER_SLEEPING, 1);
        const closed = this.closed;
        const head = Atomics.load(header, HEAD);
        if (head !== this.tail) return true;
        if (closed) return false;
        const result = waitAsync(header, HEAD, head);
        if (result.async) await result.value;
      }
    } finally {
      Atomics.store(header, CONSUMER_SLEEPING, 0);
    }
  }

  /** Publishes TAIL after a batch and wakes the producer if it waits for space that is now free. */
  private release(tail: number): void {
    if (tail === this.tail) return;
    this.tail = tail;
    const header = this.header;
    Atomics.store(header, TAIL, tail);
    const wanted = Atomics.load(header, SPACE_WANTED);
    // Only the producer clears SPACE_WANTED, for the reason given in publish(): the value seen
    // here may already be the announcement of the producer's next wait.
    if (wanted !== 0 && this.capacity - ((Atomics.load(header, HEAD) - tail) | 0) >= wanted) {
      Atomics.notify(header, TAIL);
    }
  }
}

/** A macrotask turn, so timers and I/O run between batches (a resolved promise would not). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
