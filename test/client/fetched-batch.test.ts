// Decoding fetched record sets: whole batches only, records below the fetch offset skipped, CRCs
// checked, views rather than copies.

import { describe, expect, it } from 'vitest';
import { Errors } from '../../src/errors.js';
import { encodeRecordBatch } from '../../src/storage/index.js';
import { FetchedBatch, decodeRecordSet, scanRecordSet, type KafkaMessage } from '../../src/client/fetched-batch.js';

function batchAt(baseOffset: number, values: string[], options: { timestamp?: number; headers?: boolean } = {}): Buffer {
  const bytes = Buffer.from(
    encodeRecordBatch({
      baseOffset,
      timestamp: options.timestamp ?? 1_700_000_000_000,
      records: values.map((value, i) => ({ key: i % 2 === 0 ? `k${baseOffset + i}` : null, value, headers: options.headers ? [{ key: 'h', value: `hv${i}` }, { key: 'n', value: null }] : [] })),
    }),
  );
  return bytes;
}

const decode = (set: Uint8Array, from = 0): KafkaMessage[] => {
  const out: KafkaMessage[] = [];
  decodeRecordSet(set, from, out);
  return out;
};

describe('decodeRecordSet', () => {
  it('decodes every record of whole batches, with Buffers viewing the fetched bytes', () => {
    const set = Buffer.concat([batchAt(0, ['a', 'b', 'c'], { headers: true }), batchAt(3, ['d', 'e'])]);
    const messages = decode(set);
    expect(messages.map((m) => [m.offset, m.key?.toString() ?? null, m.value?.toString()])).toEqual([
      [0, 'k0', 'a'],
      [1, null, 'b'],
      [2, 'k2', 'c'],
      [3, 'k3', 'd'],
      [4, null, 'e'],
    ]);
    expect(Buffer.isBuffer(messages[0].value)).toBe(true);
    expect(messages[0].value).toEqual(Buffer.from('a'));
    expect(messages[0].value!.buffer).toBe(set.buffer);
    expect(messages[0].headers).toEqual({ h: Buffer.from('hv0'), n: null });
    expect(messages[3].headers).toEqual({});
    expect(messages[0].timestamp).toBe(1_700_000_000_000);
  });

  it('skips records below the fetch offset and ignores a trailing partial batch', () => {
    const whole = Buffer.concat([batchAt(10, ['a', 'b', 'c', 'd']), batchAt(14, ['e'])]);
    const partial = batchAt(15, ['f', 'g']);
    const set = Buffer.concat([whole, partial.subarray(0, partial.length - 3)]);
    expect(decode(set, 12).map((m) => m.offset)).toEqual([12, 13, 14]);
    expect(scanRecordSet(set, 12)).toEqual({ bytes: whole.length, nextOffset: 15 });
    expect(scanRecordSet(partial.subarray(0, 30), 7)).toEqual({ bytes: 0, nextOffset: 7 });
    expect(decode(batchAt(0, ['x', 'y']), 5)).toEqual([]);
  });

  it('throws CORRUPT_MESSAGE for a batch whose CRC does not match', () => {
    const set = batchAt(0, ['hello', 'world']);
    set[set.length - 2] ^= 0xff;
    expect(() => decode(set)).toThrow(expect.objectContaining({ code: Errors.CORRUPT_MESSAGE.code }));
  });
});

describe('FetchedBatch', () => {
  it('decodes once, lazily, and reports its offsets', () => {
    const set = Buffer.concat([batchAt(5, ['a', 'b', 'c'])]);
    const batch = new FetchedBatch('t', 1, 20, set, 6, scanRecordSet(set, 6), 0);
    expect(batch.nextOffset).toBe(8);
    expect(batch.messages).toBe(batch.messages);
    expect(batch.firstOffset()).toBe(6);
    expect(batch.lastOffset()).toBe(7);
    expect(batch.offsetLag()).toBe(12);
    expect(batch.isEmpty()).toBe(false);
  });
});
