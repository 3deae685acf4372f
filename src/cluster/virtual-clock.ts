// Virtual time for deterministic simulations and simulation-level benchmarks: a Clock whose
// timers run only when the simulation advances it. Single-threaded; never touches real timers.
//
// Events at the same instant run in the order they were scheduled (a sequence number breaks
// ties), and deferred work runs before any later timer, as setImmediate does — so a run is a pure
// function of the seed.

import type { Clock, TimerHandle } from './clock.js';

interface Event {
  at: number;
  seq: number;
  id: number;
  fn: () => void;
}

export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private nextId = 1;
  private readonly heap: Event[] = [];
  private readonly cancelled = new Set<number>();

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.push({ at: this.time + Math.max(0, ms), seq: this.seq++, id, fn });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.cancelled.add(handle.id);
  }

  defer(fn: () => void): void {
    this.setTimer(0, fn);
  }

  /** Runs every event up to and including time `until`; the clock then reads `until`. */
  runUntil(until: number): void {
    while (this.heap.length > 0 && this.heap[0].at <= until) this.runNext();
    this.time = Math.max(this.time, until);
  }

  runFor(ms: number): void {
    this.runUntil(this.time + ms);
  }

  /**
   * Advances in steps of `stepMs` until `done()` holds or `limitMs` of virtual time have passed.
   * Returns the virtual time it took, or null when the limit was reached first.
   */
  runUntilTrue(done: () => boolean, limitMs: number, stepMs = 1): number | null {
    const start = this.time;
    while (!done()) {
      if (this.time - start >= limitMs) return null;
      this.runFor(stepMs);
    }
    return this.time - start;
  }

  /** Events not yet run (cancelled ones included until they come up). */
  get pending(): number {
    return this.heap.length;
  }

  private runNext(): void {
    const event = this.pop();
    this.time = Math.max(this.time, event.at);
    if (this.cancelled.delete(event.id)) return;
    event.fn();
  }

  // A binary min-heap on (at, seq).
  private push(event: Event): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): Event {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
