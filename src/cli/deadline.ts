// A bound on how long a command waits for the broker. Main thread.
//
// The client has its own connection and request timeouts and retries with backoff; added up they
// can outlast what a person at a terminal (or a script) will wait. The CLI promises an answer within
// --timeout-ms, so the steps that talk to the broker race this deadline.

import { Errors, RillError } from '../errors.js';

/**
 * Resolves or rejects as `work` does, unless `ms` pass first: then rejects with REQUEST_TIMED_OUT
 * saying `what` (e.g. "could not reach 127.0.0.1:9400"). `work` is not cancelled; the caller
 * exits or closes the client.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RillError(Errors.REQUEST_TIMED_OUT, `${what} within ${ms} ms`, { timeoutMs: ms })), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
