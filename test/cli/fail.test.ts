import { describe, expect, it } from 'vitest';
import { describeError, oneLine } from '../../src/cli/fail.js';
import { Errors, RillError } from '../../src/errors.js';

describe('the one-line error', () => {
  it('names the code from the error table', () => {
    expect(describeError(new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, 'Unknown topic orders'))).toBe('UNKNOWN_TOPIC_OR_PARTITION: Unknown topic orders');
    expect(describeError(new RillError(Errors.INVALID_TOPIC_EXCEPTION))).toBe('INVALID_TOPIC_EXCEPTION: The topic name is invalid');
  });

  it('names a system error by its code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9400'), { code: 'ECONNREFUSED' });
    expect(describeError(refused)).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9400');
    const noFile = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT' });
    expect(describeError(noFile)).toBe("ENOENT: no such file or directory, open 'x'");
  });

  it('says what an AggregateError with no message holds', () => {
    const error = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:9400'), new Error('connect ECONNREFUSED 127.0.0.1:9400')], ''), { code: 'ECONNREFUSED' });
    expect(describeError(error)).toBe('ECONNREFUSED: connect ECONNREFUSED ::1:9400; connect ECONNREFUSED 127.0.0.1:9400');
  });

  it('adds the cause, once', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9400'), { code: 'ECONNREFUSED' });
    expect(describeError(new RillError(Errors.REQUEST_TIMED_OUT, 'Could not connect', {}, { cause }))).toBe(
      'REQUEST_TIMED_OUT: Could not connect (connect ECONNREFUSED 127.0.0.1:9400)',
    );
    expect(describeError(new Error('failed: boom', { cause: new Error('boom') }))).toBe('failed: boom');
  });

  it('is one line whatever the message holds', () => {
    expect(describeError(new Error('first\nsecond\r\n  third'))).toBe('first second third');
    expect(oneLine('a\n\nb\n')).toBe('a b');
    expect(describeError('plain')).toBe('plain');
  });
});
