// Starting TypeScript worker threads for the ring tests, and waiting on their reports.
//
// `new Worker(file.ts, { execArgv: ['--import', 'tsx'] })` failed here on Node 20 with "Unknown
// file extension .ts" (so did an eval'd `import(file.ts)` with the same execArgv), so the worker
// starts from a one-line eval'd bootstrap that registers tsx's ESM hooks through tsx's API and
// then imports the fixture. The bootstrap's bare 'tsx/esm/api' resolves from the working directory: the repo root,
// where vitest runs.

import { Worker } from 'node:worker_threads';
import type { RingWorkerReport, RingWorkerTask } from './fixtures/ring-worker.js';

const fixtureUrl = new URL('./fixtures/ring-worker.ts', import.meta.url).href;

export interface RingWorker {
  worker: Worker;
  /** The next report of `type` (others stay queued); rejects on 'failed', error, exit or deadline. */
  next<T extends RingWorkerReport['type']>(type: T, timeoutMs?: number): Promise<Extract<RingWorkerReport, { type: T }>>;
  /** Resolves with the exit code once the worker exits; rejects after the deadline. */
  exited(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export function startRingWorker(task: RingWorkerTask): RingWorker {
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(fixtureUrl)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: task, execArgv: [] });
  const backlog: RingWorkerReport[] = [];
  let exitCode: number | null = null;
  let failure: Error | null = null;
  const listeners = new Set<() => void>();
  const poke = () => listeners.forEach((listener) => listener());
  worker.on('message', (report: RingWorkerReport) => {
    if (report.type === 'failed') failure = new Error(`worker failed: ${report.message}`);
    else backlog.push(report);
    poke();
  });
  worker.on('error', (error) => {
    failure = error;
    poke();
  });
  worker.on('exit', (code) => {
    exitCode = code;
    poke();
  });

  function until<R>(what: string, timeoutMs: number, check: () => R | undefined, failOnExit: boolean): Promise<R> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const listener = () => {
        if (failure !== null) return finish(failure);
        const value = check();
        if (value !== undefined) return finish(null, value);
        if (failOnExit && exitCode !== null) finish(new Error(`worker exited (code ${exitCode}) before ${what}`));
      };
      function finish(error: Error | null, value?: R) {
        clearTimeout(timer);
        listeners.delete(listener);
        if (error) reject(error);
        else resolve(value as R);
      }
      listeners.add(listener);
      listener();
    });
  }

  return {
    worker,
    next(type, timeoutMs = 30_000) {
      return until(`a '${type}' report`, timeoutMs, () => {
        const at = backlog.findIndex((report) => report.type === type);
        return at < 0 ? undefined : (backlog.splice(at, 1)[0] as Extract<RingWorkerReport, { type: typeof type }>);
      }, true);
    },
    exited(timeoutMs = 10_000) {
      return until('the worker to exit', timeoutMs, () => exitCode ?? undefined, false);
    },
    async stop() {
      if (exitCode === null) await worker.terminate();
    },
  };
}
