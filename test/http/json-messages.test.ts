import { describe, expect, it } from 'vitest';
import { isRillError } from '../../src/errors.js';
import fc from 'fast-check';
import { parseProduceBody, producedOffsetsJson, recordToJson } from '../../src/http/json-messages.js';

const parse = (body: unknown) => parseProduceBody(body, 1000);

function refusal(body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    if (isRillError(error)) return `${error.type}: ${error.message}`;
    throw error;
  }
  throw new Error('accepted');
}

describe('parseProduceBody', () => {
  it('turns strings into UTF-8, other JSON values into their JSON text, base64 into bytes', () => {
    const [a, b, c, d] = parse({
      messages: [
        { value: 'héllo', key: 'k' },
        { value: { n: 1 } },
        { valueBase64: 'AP8=', keyBase64: 'AQ==', partition: 3 },
        { value: false, headers: [{ key: 'h', value: null }] },
      ],
    });
    expect(a).toEqual({ key: 'k', value: 'héllo', headers: [] });
    expect(b).toEqual({ key: null, value: '{"n":1}', headers: [] });
    expect(c).toEqual({ key: Buffer.from([1]), value: Buffer.from([0, 255]), headers: [], partition: 3 });
    expect(d.value).toBe('false');
    expect(d.headers).toEqual([{ key: 'h', value: null }]);
  });

  it('takes headers as an object or as a list with repeated keys', () => {
    expect(parse({ messages: [{ value: 1, headers: { a: 'x', b: null } }] })[0].headers).toEqual([{ key: 'a', value: 'x' }, { key: 'b', value: null }]);
    expect(parse({ messages: [{ value: 1, headers: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] }] })[0].headers).toHaveLength(2);
  });

  it.each([
    [null, 'the body must be a JSON object'],
    [{ messages: {} }, '"messages" must be an array'],
    [{ messages: [] }, 'at least one message'],
    [{ messages: ['x'] }, 'messages[0] must be an object'],
    [{ messages: [{}] }, 'exactly one of "value" and "valueBase64"'],
    [{ messages: [{ valueBase64: 'abc' }] }, 'messages[0].valueBase64 must be a base64 string'],
    [{ messages: [{ value: 1, key: 'a', keyBase64: 'YQ==' }] }, 'not have both "key" and "keyBase64"'],
    [{ messages: [{ value: 1, key: [] }] }, 'messages[0].key must be a string'],
    [{ messages: [{ value: 1, partition: -1 }] }, 'messages[0].partition must be a non-negative integer'],
    [{ messages: [{ value: 1, partition: 1.5 }] }, 'messages[0].partition must be a non-negative integer'],
    [{ messages: [{ value: 1, headers: [{ value: 'x' }] }] }, 'messages[0].headers[0] must be'],
    [{ messages: [{ value: 1, headers: [{ key: 'k', value: 2 }] }] }, 'messages[0].headers[0].value must be a string or null'],
    [{ messages: [{ value: 1, headers: 5 }] }, 'messages[0].headers must be'],
  ])('refuses %j', (body, message) => {
    expect(refusal(body)).toMatch(/^INVALID_REQUEST: /);
    expect(refusal(body)).toContain(message);
  });

  it('bounds the messages of one request', () => {
    expect(() => parseProduceBody({ messages: [{ value: 1 }, { value: 2 }] }, 1)).toThrow('at most 1 per request');
  });
});

describe('recordToJson', () => {
  const record = (key: Uint8Array | null, value: Uint8Array | null, headers: { key: string; value: Uint8Array | null }[] = []) => ({ offset: 7, timestamp: 1000, key, value, headers });

  it('gives UTF-8 as text and anything else as base64, field by field', () => {
    expect(recordToJson(record(Buffer.from('k'), Buffer.from('v'), [{ key: 'h', value: Buffer.from('x') }]), 'utf8')).toEqual({
      offset: 7,
      timestamp: 1000,
      key: 'k',
      value: 'v',
      headers: [{ key: 'h', value: 'x' }],
    });
    expect(recordToJson(record(Buffer.from([0xff]), Buffer.from([0xc3]), [{ key: 'h', value: Buffer.from([0x80]) }]), 'utf8')).toEqual({
      offset: 7,
      timestamp: 1000,
      keyBase64: '/w==',
      valueBase64: 'ww==',
      headers: [{ key: 'h', valueBase64: 'gA==' }],
    });
    expect(recordToJson(record(null, null, [{ key: 'h', value: null }]), 'utf8')).toMatchObject({ key: null, value: null, headers: [{ key: 'h', value: null }] });
  });

  it('gives everything as base64 with encoding=base64', () => {
    expect(recordToJson(record(Buffer.from('k'), Buffer.from('v'), [{ key: 'h', value: Buffer.from('x') }]), 'base64')).toMatchObject({ key: 'aw==', value: 'dg==', headers: [{ key: 'h', value: 'eA==' }] });
  });

  it('copies out of the record, so a reused buffer does not change the answer', () => {
    const bytes = Buffer.from('abc');
    const json = recordToJson(record(null, bytes), 'utf8');
    bytes.fill(0);
    expect(json.value).toBe('abc');
  });
});

describe('producedOffsetsJson', () => {
  it('writes what JSON.stringify writes for any list of offsets', () => {
    const entry = fc.record({ partition: fc.nat({ max: 2 ** 31 - 1 }), offset: fc.option(fc.maxSafeNat(), { nil: null }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 300 }), (offsets) => {
        expect(producedOffsetsJson(offsets)).toBe(JSON.stringify({ offsets }));
      }),
    );
  });
});
