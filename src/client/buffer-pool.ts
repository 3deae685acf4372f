// The producer's memory for batches: at most bufferMemory bytes in all, with buffers of the usual
// batch size (batchBytes) kept for reuse. Application thread; one per producer.
//
// This is Kafka's BufferPool: the bound is what keeps a producer that outpaces its broker from
// growing without limit (send() then waits, up to maxBlockMs, for a batch to be acknowledged and
// its memory to come back), and the free list spares the allocator and the garbage collector a
// fresh 16 KiB buffer per batch. A buffer comes back only when its batch has settled: the socket is
// done with it by then (an acks=1 answer comes after the bytes were sent; acks=0 batches settle in
// the write callback). Buffers of other sizes (a busy partition's grown batches, see
// record-accumulator.ts) count against the same bound but are not kept: few are in use at once,
// and each carries up to 16 times the records of a usual one.

import { Errors, RillError } from '../errors.js';

export class BufferPool {
  readonly totalBytes: number;
  readonly poolableSize: number;
  /** Bytes neither handed out nor held in the free list. */
  private unpooled: number;
  private readonly free: Buffer[] = [];
  private readonly releaseListeners: (() => void)[] = [];

  constructor(totalBytes: number, poolableSize: number) {
    if (!Number.isSafeInteger(totalBytes) || totalBytes < poolableSize) {
      throw new RillError(Errors.INVALID_CONFIG, `bufferMemory (${totalBytes}) must be an integer of at least batchBytes (${poolableSize})`);
    }
    this.totalBytes = totalBytes;
    this.poolableSize = poolableSize;
    this.unpooled = totalBytes;
  }

  /** Bytes that could be handed out right now. */
  get availableBytes(): number {
    return this.unpooled + this.free.length * this.poolableSize;
  }

  /** Bytes handed out and not yet released. */
  get usedBytes(): number {
    return this.totalBytes - this.availableBytes;
  }

  /** A buffer of exactly `size` bytes, or null when the memory is used up. Contents are arbitrary. */
  tryAllocate(size: number): Buffer | null {
    if (size === this.poolableSize && this.free.length > 0) return this.free.pop()!;
    if (size > this.totalBytes) {
      throw new RillError(Errors.MESSAGE_TOO_LARGE, `a batch of ${size} bytes can never fit bufferMemory (${this.totalBytes} bytes)`);
    }
    // Give up pooled buffers until the unpooled memory covers the request.
    while (this.unpooled < size && this.free.length > 0) {
      this.free.pop();
      this.unpooled += this.poolableSize;
    }
    if (this.unpooled < size) return null;
    this.unpooled -= size;
    return Buffer.allocUnsafeSlow(size);
  }

  /** Returns a buffer from tryAllocate once nothing reads it any more. */
  release(buffer: Buffer): void {
    if (buffer.length === this.poolableSize) this.free.push(buffer);
    else this.unpooled += buffer.length;
    for (const listener of this.releaseListeners) listener();
  }

  /** Calls `listener` after every release (the producer resumes sends waiting for memory). */
  onRelease(listener: () => void): void {
    this.releaseListeners.push(listener);
  }
}
