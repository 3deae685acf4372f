// Appends waiting for the fdatasync that covers them (flush.mode=sync). Owner thread only.
// Offsets are appended in increasing order, so the queue stays sorted and is settled from the
// front; its length is bounded by the appends in flight, which the caller bounds.

interface Waiter {
  /** Durable once every offset below `end` is. */
  end: number;
  resolve(): void;
  reject(error: Error): void;
}

export class DurabilityWaiters {
  private queue: Waiter[] = [];
  private head = 0;

  get size(): number {
    return this.queue.length - this.head;
  }

  /** Resolves once offsets below `end` are durable. */
  add(end: number): Promise<void> {
    return new Promise((resolve, reject) => this.queue.push({ end, resolve, reject }));
  }

  /** Settles every waiter whose records are all below `durableEnd`. */
  resolveUpTo(durableEnd: number): void {
    while (this.head < this.queue.length && this.queue[this.head].end <= durableEnd) {
      this.queue[this.head++].resolve();
    }
    this.compact();
  }

  /** Rejects waiters that need any offset at or above `end` (records truncated away). */
  rejectFrom(end: number, error: Error): void {
    while (this.queue.length > this.head && this.queue[this.queue.length - 1].end > end) {
      this.queue.pop()!.reject(error);
    }
    this.compact();
  }

  rejectAll(error: Error): void {
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const waiter of pending) waiter.reject(error);
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
