// acks=all produces waiting for the high watermark to pass their records, on one partition.
// Worker thread only (the partition leader's owner).
//
// Bounded in number (maxWaiting, beyond which a produce is refused TOO_MANY_PENDING_ACKS before it
// waits) and in time (each waits at most its request's timeoutMs, then fails REQUEST_TIMED_OUT —
// the records stay appended, as in Kafka; an idempotent producer's retry is then answered as a
// duplicate). Waiters are kept in offset order, so the high watermark releases a prefix.

import { Errors, RillError, type ErrorSpec } from '../../errors.js';

interface Waiter {
  end: number;
  resolve: () => void;
  reject: (error: RillError) => void;
  timer: NodeJS.Timeout;
}

export class AckWaiters {
  private readonly waiting: Waiter[] = [];
  private readonly maxWaiting: number;

  constructor(maxWaiting: number) {
    this.maxWaiting = maxWaiting;
  }

  get size(): number {
    return this.waiting.length;
  }

  /** Throws TOO_MANY_PENDING_ACKS when no waiter may be added (checked before appending). */
  checkRoom(): void {
    if (this.waiting.length >= this.maxWaiting) {
      throw new RillError(Errors.TOO_MANY_PENDING_ACKS, `${this.waiting.length} acks=all produces already wait for replication on this partition`);
    }
  }

  /** Resolves once advance() reaches `end`; rejects after `timeoutMs` or on failAll(). */
  wait(end: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        end,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new RillError(Errors.REQUEST_TIMED_OUT, `records below offset ${end} were appended but not replicated to every in-sync replica within ${timeoutMs} ms`));
        }, Math.max(0, timeoutMs)),
      };
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1].end > end) at--;
      this.waiting.splice(at, 0, waiter);
    });
  }

  /** The high watermark reached `highWatermark`: every waiter at or below it is answered. */
  advance(highWatermark: number): void {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n].end <= highWatermark) n++;
    if (n === 0) return;
    for (const w of this.waiting.splice(0, n)) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** Fails every waiter (leadership lost, ISR below min.insync.replicas, partition closed). */
  failAll(spec: ErrorSpec, message: string): void {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new RillError(spec, message));
    }
  }

  private remove(waiter: Waiter): void {
    const at = this.waiting.indexOf(waiter);
    if (at >= 0) this.waiting.splice(at, 1);
  }
}
