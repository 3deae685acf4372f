// The writing end of a ring. Owned by one thread (single producer); see ring.ts for the design.

import {
  CLOSED,
  CONSUMER_SLEEPING,
  ENTRY_HEADER_BYTES,
  ENTRY_OVERHEAD_BYTES,
  HEAD,
  MAX_SKEW,
  PRODUCER_CLAIMED,
  LENGTH_WORD,
  SKEW_WORD,
  WORD_SHIFT,
  SPACE_WANTED,
  TAIL,
  WRAP_MARKER,
  bytesNeeded,
  entryBytes,
  maxEntryBytes,
} from './ring-layout.js';
import { FALSE, RingClosedError, RingEnd, TRUE, waitAsync } from './ring-end.js';

export interface RingProducerStats {
  /** Entries published. */
  entries: number;
  /** Payload bytes published (without entry headers, skews, padding or wrap skips). */
  bytes: number;
  /** Times tryWrite found the ring full and returned false. */
  full: number;
  /** Times waitForSpace actually went to sleep (rather than finding space at once). */
  waits: number;
}

export class RingProducer extends RingEnd {
  /** Our HEAD; only this end writes HEAD, so the shared slot is stored, never loaded. */
  private head: number;
  /** TAIL as last loaded; reloaded only when the space check fails against it. */
  private tailSeen: number;
  private spaceWaiter: Promise<boolean> | null = null;
  /** Payload size the pending waitForSpace() waits room for. */
  private wantedPayload = 0;
  private nEntries = 0;
  private nBytes = 0;
  private nFull = 0;
  private nWaits = 0;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer, PRODUCER_CLAIMED, 'producer');
    this.head = Atomics.load(this.header, HEAD);
    this.tailSeen = Atomics.load(this.header, TAIL);
  }

  get stats(): RingProducerStats {
    return { entries: this.nEntries, bytes: this.nBytes, full: this.nFull, waits: this.nWaits };
  }

  /**
   * Copies `bytes` into the ring as one entry and publishes it. Returns false, having written
   * nothing, when the ring has no room for it now: backpressure, see waitForSpace(). Throws
   * RangeError when the entry is larger than maxEntryBytes and RingClosedError once the ring is
   * closed. The caller may reuse `bytes` as soon as this returns.
   */
  tryWrite(bytes: Uint8Array): boolean {
    const length = bytes.length;
    const skew = bytes.byteOffset & MAX_SKEW; // copy word by word: see "Why the skew" in ring-layout.ts
    const index = this.reserve(length, skew);
    if (index < 0) return false;
    this.data.set(bytes, index + ENTRY_HEADER_BYTES + skew);
    this.publish(length, skew);
    return true;
  }

  /**
   * Like tryWrite, for one entry made of several parts written back to back (say a response
   * header and a body), without concatenating them first.
   */
  tryWriteParts(parts: readonly Uint8Array[]): boolean {
    // The skew aligns the largest part with its source (a body, usually; the header is small).
    let length = 0;
    let skew = 0;
    let largest = -1;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part.length > largest) {
        largest = part.length;
        skew = (part.byteOffset - length) & MAX_SKEW;
      }
      length += part.length;
    }
    let at = this.reserve(length, skew);
    if (at < 0) return false;
    at += ENTRY_HEADER_BYTES + skew;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      this.data.set(part, at);
      at += part.length;
    }
    this.publish(length, skew);
    return true;
  }

  /**
   * Resolves with true once an entry of `payloadBytes` fits, whatever its source's alignment (so
   * the next tryWrite of that size succeeds unless this thread writes something else first), or
   * with false once the ring is closed: `while (!p.tryWrite(b)) if (!(await p.waitForSpace(b.length))) stop();`
   * Never rejects; throws RangeError at once, like tryWrite, for a size above maxEntryBytes.
   * While one call is pending, further calls share its wait (for the largest size asked), so a
   * producer holds at most one waiter.
   */
  waitForSpace(payloadBytes: number): Promise<boolean> {
    if (payloadBytes > this.maxEntryBytes) throw this.tooLarge(payloadBytes);
    if (this.closed) return FALSE;
    if (this.fits(payloadBytes)) return TRUE;
    if (this.spaceWaiter === null) {
      this.wantedPayload = payloadBytes;
      this.spaceWaiter = this.sleepUntilSpace().finally(() => {
        this.spaceWaiter = null;
      });
    } else if (payloadBytes > this.wantedPayload) {
      this.wantedPayload = payloadBytes; // the sleeping loop picks it up when it next wakes
    }
    return this.spaceWaiter;
  }

  /** Whether an entry of `payloadBytes` with the largest skew fits now (reloads TAIL). */
  private fits(payloadBytes: number): boolean {
    this.tailSeen = Atomics.load(this.header, TAIL);
    return bytesNeeded(this.capacity, this.head, payloadBytes, MAX_SKEW) <= this.capacity - ((this.head - this.tailSeen) | 0);
  }

  private async sleepUntilSpace(): Promise<boolean> {
    this.nWaits++;
    const header = this.header;
    try {
      for (;;) {
        // Announce first, then re-check: see the header comment on lost wake-ups. HEAD is
        // recomputed each round because this thread may have written meanwhile.
        const needed = bytesNeeded(this.capacity, this.head, this.wantedPayload, MAX_SKEW);
        Atomics.store(header, SPACE_WANTED, needed);
        const tail = Atomics.load(header, TAIL);
        this.tailSeen = tail;
        if (this.closed) return false;
        if (needed <= this.capacity - ((this.head - tail) | 0)) return true;
        const result = waitAsync(header, TAIL, tail);
        if (result.async) await result.value;
      }
    } finally {
      Atomics.store(header, SPACE_WANTED, 0);
    }
  }

  /**
   * Checks the size and the room for an entry of `length` payload bytes placed after `skew`; on
   * success writes the wrap marker if needed and the entry header, and returns the entry's index
   * in the data region; returns -1 when the ring is full.
   */
  private reserve(length: number, skew: number): number {
    if (length > this.maxEntryBytes) throw this.tooLarge(length);
    // A plain read: Atomics.load costs ~9 ns here, a write ~60 ns in all; a write racing a close
    // may land either way, and the next one sees the close.
    if (this.header[CLOSED] !== 0) throw new RingClosedError();
    const capacity = this.capacity;
    let head = this.head;
    let index = head & this.mask;
    const size = entryBytes(length, skew);
    const toEnd = capacity - index;
    const needed = size <= toEnd ? size : toEnd + size;
    if (needed > capacity - ((head - this.tailSeen) | 0)) {
      this.tailSeen = Atomics.load(this.header, TAIL);
      if (needed > capacity - ((head - this.tailSeen) | 0)) {
        this.nFull++;
        return -1;
      }
    }
    if (size > toEnd) {
      this.words[(index >> WORD_SHIFT) + LENGTH_WORD] = WRAP_MARKER;
      head = (head + toEnd) | 0;
      this.head = head; // published with the entry, by publish()
      index = 0;
    }
    const word = index >> WORD_SHIFT;
    this.words[word + LENGTH_WORD] = length;
    this.words[word + SKEW_WORD] = skew;
    return index;
  }

  /** Makes the entry reserved at this.head visible to the consumer, and wakes it if it sleeps. */
  private publish(length: number, skew: number): void {
    const head = (this.head + entryBytes(length, skew)) | 0;
    this.head = head;
    // The header and payload stores above happen-before this store; a consumer that loads the
    // new HEAD sees them.
    Atomics.store(this.header, HEAD, head);
    // Only the consumer clears its flag. Clearing it here (to notify once per sleep) loses
    // wake-ups: the flag may already belong to the consumer's next sleep, which has seen this
    // entry, drained it, and announced itself again before this notify; it then waits for the
    // next entry, whose write finds the flag cleared. Seen here within a few million entries.
    if (Atomics.load(this.header, CONSUMER_SLEEPING) !== 0) Atomics.notify(this.header, HEAD);
    this.nEntries++;
    this.nBytes += length;
  }

  private tooLarge(length: number): RangeError {
    return new RangeError(
      `ring entry of ${length} bytes exceeds the limit of ${this.maxEntryBytes} bytes ` +
        `(half of the ${this.capacity}-byte ring less ${ENTRY_OVERHEAD_BYTES} bytes of entry header and padding)`,
    );
  }
}
