// Retry policy: how many times to retry a failed operation and how long to wait before each try.
// Application thread. Plain data and arithmetic; the callers own their timers.
//
// Exponential backoff with jitter, as kafkajs and Kafka's clients do it: the n-th retry waits
// initialRetryTimeMs * multiplier^(n-1), capped at maxRetryTimeMs, then spread by +-factor at
// random. The spread matters when a broker restarts: a hundred clients that lost it at the same
// moment must not all come back in the same millisecond.

import { Errors, RillError } from '../errors.js';
import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt. Default 5. */
  retries?: number;
  /** Wait before the first retry. Default 100 ms. */
  initialRetryTimeMs?: number;
  /** Longest wait between two tries. Default 30,000 ms. */
  maxRetryTimeMs?: number;
  /** Growth of the wait per retry. Default 2. */
  multiplier?: number;
  /** Jitter: each wait is spread uniformly over +-factor of itself. Default 0.2. */
  factor?: number;
}

export class RetryPolicy {
  readonly retries: number;
  readonly initialRetryTimeMs: number;
  readonly maxRetryTimeMs: number;
  readonly multiplier: number;
  readonly factor: number;
  private readonly random: () => number;

  constructor(options: RetryOptions = {}, random: () => number = Math.random) {
    this.retries = checked('retry.retries', options.retries ?? 5, 0);
    this.initialRetryTimeMs = checked('retry.initialRetryTimeMs', options.initialRetryTimeMs ?? 100, 0);
    this.maxRetryTimeMs = checked('retry.maxRetryTimeMs', options.maxRetryTimeMs ?? 30_000, 0);
    this.multiplier = options.multiplier ?? 2;
    this.factor = options.factor ?? 0.2;
    if (!(this.multiplier >= 1)) throw new RillError(Errors.INVALID_CONFIG, `retry.multiplier must be >= 1, got ${this.multiplier}`);
    if (!(this.factor >= 0 && this.factor < 1)) throw new RillError(Errors.INVALID_CONFIG, `retry.factor must be in [0, 1), got ${this.factor}`);
    this.random = random;
  }

  /** Milliseconds to wait before retry number `retry` (1 for the first retry). */
  delay(retry: number): number {
    const base = Math.min(this.maxRetryTimeMs, this.initialRetryTimeMs * this.multiplier ** Math.max(0, retry - 1));
    const spread = base * this.factor * (2 * this.random() - 1);
    return Math.max(0, Math.min(this.maxRetryTimeMs, Math.round(base + spread)));
  }

  /** Whether an operation that has failed `failures` times may be tried again. */
  canRetry(failures: number): boolean {
    return failures <= this.retries;
  }

  /**
   * Runs `operation` until it succeeds, a failure is not retriable, or the retries are used up;
   * waits delay(n) before retry n. `shouldRetry` (default: the error's retriable flag) may refuse a
   * retry; `onRetry` hears of each. The last error is thrown as it was.
   */
  async run<T>(
    operation: (attempt: number) => Promise<T>,
    hooks: { shouldRetry?: (error: unknown) => boolean; onRetry?: (error: unknown, retry: number, delayMs: number) => void; stopped?: () => boolean } = {},
  ): Promise<T> {
    const shouldRetry = hooks.shouldRetry ?? isRetriable;
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        if (attempt >= this.retries || !shouldRetry(error) || hooks.stopped?.() === true) throw error;
        const wait = this.delay(attempt + 1);
        hooks.onRetry?.(error, attempt + 1, wait);
        await sleep(wait);
        if (hooks.stopped?.() === true) throw error;
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checked(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new RillError(Errors.INVALID_CONFIG, `${name} must be a number >= ${min}, got ${value}`);
  return value;
}
