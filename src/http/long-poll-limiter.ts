// Bounds the HTTP fetches waiting for data at once (http.max.long.polls). Main thread.
//
// A waiting fetch holds a socket, a timer and one of the owner's in-flight request slots (4,096 per
// worker, shared with every producer and binary consumer); without a bound, a crowd of idle long
// polls could starve producers. Beyond the bound a fetch that would wait gets TOO_MANY_LONG_POLLS
// (429, retriable) at once; fetches with waitMs=0 never wait and are not counted.

import { Errors, RillError } from '../errors.js';

export class LongPollLimiter {
  readonly max: number;
  private active = 0;
  private refused = 0;

  constructor(max: number) {
    this.max = max;
  }

  get waiting(): number {
    return this.active;
  }

  /** Long polls refused so far (for /metrics). */
  get rejected(): number {
    return this.refused;
  }

  /** Takes a place; returns its release (idempotent), or throws TOO_MANY_LONG_POLLS. */
  acquire(): () => void {
    if (this.active >= this.max) {
      this.refused++;
      throw new RillError(Errors.TOO_MANY_LONG_POLLS, `${this.active} fetches are already waiting for data (http.max.long.polls = ${this.max}); retry later or with waitMs=0`, { limit: this.max });
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
    };
  }
}
