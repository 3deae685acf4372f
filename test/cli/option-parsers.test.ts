import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'commander';
import { checkTopicName, integerParser, parseKeyValue, parsePartition, parsePositiveInt, parseSeparator, parseStartOffset } from '../../src/cli/option-parsers.js';
import { isRillError, Errors } from '../../src/errors.js';

describe('flag value parsers', () => {
  it('takes whole numbers in range and refuses anything else', () => {
    expect(parsePositiveInt('3')).toBe(3);
    expect(parsePartition('0')).toBe(0);
    expect(integerParser(0, 10)('10')).toBe(10);
    for (const bad of ['0', '-1', '1.5', '1e3', '0x10', ' 5', '', 'three', '99999999999999999999']) {
      expect(() => parsePositiveInt(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(() => parsePartition('2147483648')).toThrow(/from 0 to 2147483647/);
    expect(() => parsePositiveInt('0')).toThrow(/at least 1/);
  });

  it('collects repeated key=value flags, values may hold "="', () => {
    let collected = parseKeyValue('retention.ms=1000', undefined);
    collected = parseKeyValue('filter=a=b', collected);
    collected = parseKeyValue('empty=', collected);
    expect(collected).toEqual({ 'retention.ms': '1000', filter: 'a=b', empty: '' });
    expect(() => parseKeyValue('novalue', undefined)).toThrow(/key=value/);
    expect(() => parseKeyValue('=x', undefined)).toThrow(/non-empty key/);
    expect(() => parseKeyValue('a=2', { a: '1' })).toThrow(/'a' a second time/);
  });

  it('reads start offsets as Kafka console consumer does', () => {
    expect(parseStartOffset('earliest')).toBe('earliest');
    expect(parseStartOffset('latest')).toBe('latest');
    expect(parseStartOffset('42')).toBe(42);
    for (const bad of ['-1', 'first', '1.0', '']) expect(() => parseStartOffset(bad), bad).toThrow(InvalidArgumentError);
  });

  it('reads \\t in a separator as a tab', () => {
    expect(parseSeparator('\\t')).toBe('\t');
    expect(parseSeparator(':')).toBe(':');
    expect(parseSeparator('\\\\t')).toBe('\\t');
    expect(parseSeparator('=>')).toBe('=>');
    expect(() => parseSeparator('')).toThrow(/empty/);
  });

  it('checks topic names by the broker rules, internal ones only where allowed', () => {
    expect(checkTopicName('orders.v1_eu-west')).toBe('orders.v1_eu-west');
    expect(checkTopicName('__consumer_offsets', { allowInternal: true })).toBe('__consumer_offsets');
    const cases: [string, RegExp][] = [
      ['bad name', /may contain only ASCII letters/],
      ['', /must not be empty/],
      ['..', /must not be ".."/],
      ['x'.repeat(250), /at most 249/],
      ['__consumer_offsets', /reserved for internal topics/],
    ];
    for (const [name, message] of cases) {
      let thrown: unknown;
      try {
        checkTopicName(name);
      } catch (error) {
        thrown = error;
      }
      expect(isRillError(thrown, Errors.INVALID_TOPIC_EXCEPTION), name).toBe(true);
      expect((thrown as Error).message).toMatch(message);
    }
  });
});
