import { describe, expect, it } from 'vitest';
import { Errors, isRillError } from '../../src/errors.js';
import { LongPollLimiter } from '../../src/http/long-poll-limiter.js';

describe('LongPollLimiter', () => {
  it('admits up to its bound, refuses beyond with TOO_MANY_LONG_POLLS, and admits again on release', () => {
    const limiter = new LongPollLimiter(2);
    const first = limiter.acquire();
    limiter.acquire();
    expect(limiter.waiting).toBe(2);
    let refused: unknown;
    try {
      limiter.acquire();
    } catch (error) {
      refused = error;
    }
    expect(isRillError(refused, Errors.TOO_MANY_LONG_POLLS)).toBe(true);
    expect((refused as Error).message).toContain('http.max.long.polls = 2');
    expect(Errors.TOO_MANY_LONG_POLLS.httpStatus).toBe(429);
    expect(limiter.rejected).toBe(1);
    first();
    first(); // idempotent
    expect(limiter.waiting).toBe(1);
    expect(() => limiter.acquire()).not.toThrow();
  });
});
