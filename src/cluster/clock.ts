// Time as the cluster modules see it: a clock to read and timers to set. Main thread only (the
// thread that owns the gossip or Raft instance). Injected so that the same protocol code runs on
// real timers in the broker and on virtual time in the deterministic simulations (virtual-clock.ts).

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Runs `fn` after the current event and everything already deferred, before any timer. Used for
   * group commit: several proposals in one event share one fsync.
   */
  defer(fn: () => void): void;
}

/** Real time: performance.now(), setTimeout, setImmediate. Timers do not keep the process alive. */
export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextId = 1;
  return {
    now: () => performance.now(),
    setTimer(ms, fn) {
      const id = nextId++;
      const timer = setTimeout(() => {
        timers.delete(id);
        fn();
      }, ms);
      timer.unref();
      timers.set(id, timer);
      return { id };
    },
    clearTimer(handle) {
      const timer = timers.get(handle.id);
      if (timer !== undefined) {
        clearTimeout(timer);
        timers.delete(handle.id);
      }
    },
    defer: (fn) => setImmediate(fn),
  };
}
