import { describe, expect, it } from 'vitest';
import { enumParam, intParam, partitionParam } from '../../src/http/query.js';

const q = (s: string) => new URLSearchParams(s);

describe('query parameters', () => {
  it('reads integers within bounds, with a default when absent or empty', () => {
    expect(intParam(q(''), 'n', 5, 1, 10)).toBe(5);
    expect(intParam(q('n='), 'n', 5, 1, 10)).toBe(5);
    expect(intParam(q('n=10'), 'n', 5, 1, 10)).toBe(10);
    expect(() => intParam(q('n=11'), 'n', 5, 1, 10)).toThrow('n must be between 1 and 10, got 11');
    expect(() => intParam(q('n=1.5'), 'n', 5, 1, 10)).toThrow("n must be an integer, got '1.5'");
    expect(() => intParam(q('n=99999999999999999999'), 'n', 5, 1, 10)).toThrow('must be an integer');
  });

  it('reads one of a set of choices', () => {
    expect(enumParam(q(''), 'e', ['a', 'b'], 'a')).toBe('a');
    expect(enumParam(q('e=b'), 'e', ['a', 'b'], 'a')).toBe('b');
    expect(() => enumParam(q('e=c'), 'e', ['a', 'b'], 'a')).toThrow("e must be one of a, b, got 'c'");
  });

  it('reads partitions from the path', () => {
    expect(partitionParam('0')).toBe(0);
    expect(() => partitionParam('-1')).toThrow('partition must be between 0');
  });
});
