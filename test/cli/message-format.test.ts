import { describe, expect, it } from 'vitest';
import { formatMessage, toJson, type ConsumedMessage } from '../../src/cli/message-format.js';

const message: ConsumedMessage = {
  topic: 'orders',
  partition: 2,
  offset: '41',
  timestamp: 1_700_000_000_123n,
  key: Buffer.from('user-1'),
  value: Buffer.from('{"item":42}'),
  headers: { source: Buffer.from('cli'), trace: 'abc', empty: null, gone: undefined },
};

describe('message output formats', () => {
  it('value: the value bytes and a newline', () => {
    expect(formatMessage('value', message).toString()).toBe('{"item":42}\n');
    expect(formatMessage('value', { ...message, value: null }).toString()).toBe('\n');
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    expect(formatMessage('value', { ...message, value: binary })).toEqual(Buffer.concat([binary, Buffer.from('\n')]));
  });

  it('json: one JSON object a line, with every field', () => {
    const line = formatMessage('json', message).toString();
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd()).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      topic: 'orders',
      partition: 2,
      offset: 41,
      timestamp: 1_700_000_000_123,
      key: 'user-1',
      headers: { source: 'cli', trace: 'abc', empty: null },
      value: '{"item":42}',
    });
  });

  it('json: null key and value stay null; a value with newlines stays on one line', () => {
    const json = toJson({ ...message, key: null, value: null, headers: {} });
    expect(json).toMatchObject({ key: null, value: null, headers: {} });
    const multiline = formatMessage('json', { ...message, value: Buffer.from('a\nb') }).toString();
    expect(multiline.split('\n')).toHaveLength(2);
    expect(JSON.parse(multiline).value).toBe('a\nb');
  });
});
