// The retry policy: exponential backoff with jitter, caps, and which failures are retried.

import { describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../src/errors.js';
import { RetryPolicy } from '../../src/client/retry.js';

const retriable = () => new RillError(Errors.NOT_LEADER_OR_FOLLOWER);
const fatal = () => new RillError(Errors.INVALID_TOPIC_EXCEPTION);

describe('RetryPolicy', () => {
  it('doubles the wait per retry from initialRetryTimeMs, capped at maxRetryTimeMs', () => {
    const policy = new RetryPolicy({ initialRetryTimeMs: 100, maxRetryTimeMs: 1000, factor: 0 });
    expect([1, 2, 3, 4, 5, 6].map((n) => policy.delay(n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('spreads each wait by +-factor', () => {
    const low = new RetryPolicy({ initialRetryTimeMs: 100, factor: 0.2 }, () => 0);
    const high = new RetryPolicy({ initialRetryTimeMs: 100, factor: 0.2 }, () => 0.999999);
    expect(low.delay(1)).toBe(80);
    expect(high.delay(1)).toBe(120);
    expect(low.delay(3)).toBe(320);
    expect(high.delay(3)).toBe(480);
    const random = new RetryPolicy({ initialRetryTimeMs: 100, factor: 0.2 });
    for (let i = 0; i < 100; i++) {
      const d = random.delay(2);
      expect(d).toBeGreaterThanOrEqual(160);
      expect(d).toBeLessThanOrEqual(240);
    }
  });

  it('never waits longer than maxRetryTimeMs, jitter included', () => {
    const policy = new RetryPolicy({ initialRetryTimeMs: 100, maxRetryTimeMs: 300, factor: 0.5 }, () => 0.999);
    expect(policy.delay(10)).toBe(300);
  });

  it('refuses bad settings', () => {
    expect(() => new RetryPolicy({ retries: -1 })).toThrow(RillError);
    expect(() => new RetryPolicy({ factor: 1 })).toThrow(/factor/);
    expect(() => new RetryPolicy({ multiplier: 0.5 })).toThrow(/multiplier/);
  });

  it('retries a retriable failure up to `retries` times, then throws the last error', async () => {
    const policy = new RetryPolicy({ retries: 3, initialRetryTimeMs: 1, maxRetryTimeMs: 2 });
    let calls = 0;
    const errors: RillError[] = [];
    await expect(
      policy.run(async () => {
        calls++;
        const e = retriable();
        errors.push(e);
        throw e;
      }),
    ).rejects.toBeInstanceOf(RillError);
    expect(calls).toBe(4);
    expect(errors).toHaveLength(4);
  });

  it('succeeds once the operation does, passing the attempt number', async () => {
    const policy = new RetryPolicy({ retries: 5, initialRetryTimeMs: 1, maxRetryTimeMs: 2 });
    const attempts: number[] = [];
    const retried: number[] = [];
    const result = await policy.run(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 2) throw retriable();
        return 'done';
      },
      { onRetry: (_error, retry) => retried.push(retry) },
    );
    expect(result).toBe('done');
    expect(attempts).toEqual([0, 1, 2]);
    expect(retried).toEqual([1, 2]);
  });

  it('does not retry a non-retriable failure or a plain Error', async () => {
    const policy = new RetryPolicy({ retries: 5, initialRetryTimeMs: 1 });
    let calls = 0;
    await expect(policy.run(async () => (calls++, Promise.reject(fatal())))).rejects.toMatchObject({ code: Errors.INVALID_TOPIC_EXCEPTION.code });
    expect(calls).toBe(1);
    await expect(policy.run(async () => (calls++, Promise.reject(new Error('bug'))))).rejects.toThrow('bug');
    expect(calls).toBe(2);
  });
});
