// The pull side of the group consumer: messages wait here until consumer.poll() takes them.
// Application thread.
//
// poll() is the shape HTTP-only clients need (the REST proxy's "GET records" in the spirit of
// Confluent's): the caller asks for up to maxRecords, waiting up to maxWaitMs when none are ready.
// The buffer is bounded (capacity messages): once full, the fetch path waits, and the fetcher's
// own prefetch bound stops fetching. Revocation drops the buffered messages of the partitions
// that leave (their next owner reads them from the last commit) and releases the fetch path.
//
// Delivery stays at-least-once: a polled message counts as processed only when the caller polls
// again or commits (commitPolled), as Kafka's poll() treats the records of the previous call.

import { type EachMessagePayload } from '../consumer.js';

export class PollBuffer {
  private readonly capacity: number;
  private items: EachMessagePayload[] = [];
  private spaceWaiters: (() => void)[] = [];
  private dataWaiter: (() => void) | null = null;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length;
  }

  /** Adds a message; resolves once there is room for the next one. */
  push(payload: EachMessagePayload): Promise<void> | undefined {
    this.items.push(payload);
    this.dataWaiter?.();
    if (this.items.length < this.capacity) return undefined;
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Up to `max` messages that `keep` accepts, waiting up to `waitMs` for the first. */
  async take(max: number, waitMs: number, keep: (payload: EachMessagePayload) => boolean): Promise<EachMessagePayload[]> {
    this.drop((p) => !keep(p));
    if (this.items.length === 0 && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.dataWaiter = done;
      });
      this.dataWaiter = null;
      // The first message wakes the poll; the rest of its batch is delivered in the same turn.
      // Taking after that turn returns the batch, not its first message alone.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.drop((p) => !keep(p));
    }
    const taken = this.items.splice(0, max);
    this.releaseSpace();
    return taken;
  }

  /** Drops the buffered messages `filter` matches (revoked or lost partitions, a seek). */
  drop(filter: (payload: EachMessagePayload) => boolean): void {
    const before = this.items.length;
    this.items = this.items.filter((p) => !filter(p));
    if (this.items.length !== before) this.releaseSpace();
  }

  /** Wakes a poll() waiting for data and the fetch path waiting for room (stop, revocation). */
  wakeAll(): void {
    this.dataWaiter?.();
    for (const resolve of this.spaceWaiters.splice(0)) resolve();
  }

  private releaseSpace(): void {
    if (this.items.length >= this.capacity) return;
    for (const resolve of this.spaceWaiters.splice(0)) resolve();
  }
}
