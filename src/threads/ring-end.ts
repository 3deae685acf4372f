// What both ends of a ring share: the checks on the buffer, capacity, closing, and the
// Atomics.waitAsync both sleep with. Any thread; see ring.ts for the design.

import {
  CAPACITY,
  CLOSED,
  DATA_OFFSET,
  HEAD,
  LAYOUT_VERSION,
  MAGIC,
  MAGIC_VALUE,
  TAIL,
  VERSION,
  isValidCapacity,
  maxEntryBytes,
} from './ring-layout.js';

// Atomics.waitAsync is in lib.es2024; the project compiles against ES2022, Node 20 has it.
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
export const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

export const TRUE: Promise<boolean> = Promise.resolve(true);
export const FALSE: Promise<boolean> = Promise.resolve(false);

/** Thrown by a write into a ring that either end has closed. */
export class RingClosedError extends Error {
  constructor() {
    super('the ring is closed');
    this.name = 'RingClosedError';
  }
}

/** What the two ends share: views over the buffer, capacity, closing. */
export abstract class RingEnd {
  /** Bytes in the data region. */
  readonly capacity: number;
  /** Largest payload one entry may carry: half the ring less an entry's header and padding. */
  readonly maxEntryBytes: number;
  protected readonly buffer: SharedArrayBuffer;
  protected readonly header: Int32Array;
  /** The data region as bytes (the producer's copies). */
  protected readonly data: Uint8Array;
  /** The data region as Int32 slots (entry headers and wrap markers; always 8-aligned). */
  protected readonly words: Int32Array;
  protected readonly mask: number;

  protected constructor(buffer: SharedArrayBuffer, claimSlot: number, role: string) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < DATA_OFFSET) {
      throw new TypeError('a ring end needs the SharedArrayBuffer made by Ring.create()');
    }
    this.header = new Int32Array(buffer, 0, DATA_OFFSET / Int32Array.BYTES_PER_ELEMENT);
    if (Atomics.load(this.header, MAGIC) !== MAGIC_VALUE || this.header[VERSION] !== LAYOUT_VERSION) {
      throw new TypeError('the SharedArrayBuffer is not a ring made by Ring.create() (bad magic or version)');
    }
    const capacity = this.header[CAPACITY];
    if (!isValidCapacity(capacity) || buffer.byteLength !== DATA_OFFSET + capacity) {
      throw new TypeError(`ring header says ${capacity} data bytes, but the buffer holds ${buffer.byteLength - DATA_OFFSET}`);
    }
    if (Atomics.compareExchange(this.header, claimSlot, 0, 1) !== 0) {
      throw new Error(`this ring already has a ${role}; a ring has exactly one of each end`);
    }
    this.buffer = buffer;
    this.capacity = capacity;
    this.maxEntryBytes = maxEntryBytes(capacity);
    this.mask = capacity - 1;
    this.data = new Uint8Array(buffer, DATA_OFFSET, capacity);
    this.words = new Int32Array(buffer, DATA_OFFSET, capacity / Int32Array.BYTES_PER_ELEMENT);
  }

  /** True once either end has called close(). */
  get closed(): boolean {
    return Atomics.load(this.header, CLOSED) !== 0;
  }

  /** Bytes in use: entries not yet consumed with their headers, skews and padding, and wrap skips. */
  get usedBytes(): number {
    return (Atomics.load(this.header, HEAD) - Atomics.load(this.header, TAIL)) | 0;
  }

  /** capacity - usedBytes. An entry may need more than its own size when it has to wrap. */
  get freeBytes(): number {
    return this.capacity - this.usedBytes;
  }

  /**
   * Closes the ring for both ends and wakes whichever of them is waiting, so that both threads
   * can shut down. Idempotent. After close the producer's writes throw RingClosedError; the
   * consumer can still drain what was published before (consume() does, then returns). Entries
   * that the producer writes while the consumer is closing may be lost: closing from the
   * consumer's side means "stop".
   */
  close(): void {
    if (Atomics.exchange(this.header, CLOSED, 1) !== 0) return;
    Atomics.notify(this.header, HEAD);
    Atomics.notify(this.header, TAIL);
  }
}

/** The writing end. Owned by one thread; single producer. */
