// Time for the group coordinator: now() and timers, injected so tests drive the coordinator with
// a manual clock. Worker thread only (the owner of the __consumer_offsets partitions).

export interface CoordinatorClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

export const systemClock: CoordinatorClock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
