// The producer's batch builder: what it writes must be exactly what storage's decoder and
// validator read (RecordBatch v2), for every shape of record.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkProducedBatch, decodeRecordBatch } from '../../src/storage/index.js';
import { BATCH_OVERHEAD, ProducerBatch, headersSize, payloadLength, recordSize, type BatchSegmentOwner, type Payload } from '../../src/client/producer-batch.js';

class Owner implements BatchSegmentOwner {
  opened = 0;
  done: { baseOffset: number; partition: number }[] = [];
  failed: Error[] = [];
  segmentOpened(): void {
    this.opened++;
  }
  segmentDone(_topic: string, partition: number, baseOffset: number): void {
    this.done.push({ baseOffset, partition });
  }
  segmentFailed(error: Error): void {
    this.failed.push(error);
  }
}

function newBatch(limit = 16_384, capacity = limit): ProducerBatch {
  return new ProducerBatch('t', 3, 1, Buffer.alloc(capacity), limit, 0, 0);
}

function append(batch: ProducerBatch, owner: BatchSegmentOwner, timestamp: number, key: Payload, value: Payload, headers?: Record<string, Payload>): boolean {
  return batch.tryAppend(owner, timestamp, key, payloadLength(key), value, payloadLength(value), headers, headers === undefined ? 1 : headersSize(headers));
}

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));

describe('ProducerBatch', () => {
  it('round-trips keys, values, headers and timestamps through the storage decoder', () => {
    const owner = new Owner();
    const batch = newBatch();
    expect(append(batch, owner, 1_700_000_000_000, 'k1', 'v1', { a: 'x', b: Buffer.from([1, 2]) })).toBe(true);
    expect(append(batch, owner, 1_700_000_000_005, null, Buffer.from('v2'))).toBe(true);
    expect(append(batch, owner, 1_699_999_999_990, Buffer.from('k3'), null, { empty: '' })).toBe(true);
    expect(append(batch, owner, 1_700_000_000_001, 'ünï', 'çødé ✓')).toBe(true);
    const bytes = batch.bytes();
    expect(checkProducedBatch(bytes, 0, bytes.length)).toBe(bytes.length);
    const decoded = decodeRecordBatch(bytes);
    expect(decoded).toMatchObject({ recordCount: 4, lastOffsetDelta: 3, baseTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_005, producerId: -1, producerEpoch: -1, baseSequence: -1 });
    expect(decoded.records.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value)])).toEqual([
      [0, 1_700_000_000_000, 'k1', 'v1'],
      [1, 1_700_000_000_005, null, 'v2'],
      [2, 1_699_999_999_990, 'k3', null],
      [3, 1_700_000_000_001, 'ünï', 'çødé ✓'],
    ]);
    expect(decoded.records[0].headers.map((h) => [h.key, [...(h.value ?? [])]])).toEqual([
      ['a', [0x78]],
      ['b', [1, 2]],
    ]);
    expect(decoded.records[2].headers.map((h) => [h.key, h.value?.length])).toEqual([['empty', 0]]);
    expect(owner.opened).toBe(1);
  });

  it('agrees with the decoder on random records', () => {
    const payload = fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: payload,
            value: payload,
            delta: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
            headers: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string({ maxLength: 10 }), fc.uint8Array({ maxLength: 10 }))), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (records) => {
          const batch = newBatch(1 << 20);
          const owner = new Owner();
          const base = 1_700_000_000_000;
          for (const r of records) expect(append(batch, owner, base + r.delta, r.key, r.value, r.headers)).toBe(true);
          const decoded = decodeRecordBatch(batch.bytes());
          expect(decoded.records).toHaveLength(records.length);
          decoded.records.forEach((d, i) => {
            const r = records[i];
            const bytesOf = (p: Payload) => (p === null || p === undefined ? null : Buffer.from(p as string));
            expect(d.timestamp).toBe(i === 0 ? base + r.delta : base + r.delta);
            expect(d.key === null ? null : Buffer.from(d.key)).toEqual(bytesOf(r.key));
            expect(d.value === null ? null : Buffer.from(d.value)).toEqual(bytesOf(r.value));
            expect(d.headers.map((h) => h.key)).toEqual(Object.keys(r.headers ?? {}));
          });
          expect(batch.size).toBe(batch.bytes().length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stops at its limit, but always takes a first record that fits its buffer', () => {
    const owner = new Owner();
    const value = Buffer.alloc(100, 1);
    const one = recordSize(0, 0, -1, 100, 1);
    const batch = newBatch(BATCH_OVERHEAD + 3 * one + 2);
    let appended = 0;
    while (append(batch, owner, 0, null, value)) appended++;
    expect(appended).toBe(3);
    expect(batch.recordCount).toBe(3);

    const big = Buffer.alloc(5000, 2);
    const lone = new ProducerBatch('t', 0, 1, Buffer.alloc(BATCH_OVERHEAD + recordSize(0, 0, -1, 5000, 1)), 1000, 0, 1);
    expect(append(lone, owner, 0, null, big)).toBe(true);
    expect(append(lone, owner, 0, null, Buffer.alloc(1))).toBe(false);
    expect(Buffer.from(decodeRecordBatch(lone.bytes()).records[0].value!)).toEqual(big);
  });

  it('writes the idempotence stamp and a CRC that covers it, again after a re-stamp', () => {
    const batch = newBatch();
    const owner = new Owner();
    for (let i = 0; i < 5; i++) append(batch, owner, 1000 + i, null, `v${i}`);
    batch.stamp(42, 3, 2_147_483_645);
    let decoded = decodeRecordBatch(batch.bytes());
    expect(decoded).toMatchObject({ producerId: 42, producerEpoch: 3, baseSequence: 2_147_483_645, recordCount: 5 });
    expect(batch.isStamped).toBe(true);
    batch.stamp(42, 4, 0);
    decoded = decodeRecordBatch(batch.bytes());
    expect(decoded).toMatchObject({ producerId: 42, producerEpoch: 4, baseSequence: 0 });
    batch.unstamp();
    expect(batch.isStamped).toBe(false);
    expect(decodeRecordBatch(batch.bytes())).toMatchObject({ producerId: -1, producerEpoch: -1, baseSequence: -1 });
  });

  it('keeps one segment per run of a send call, and settles each once with its first offset', () => {
    const a = new Owner();
    const b = new Owner();
    const batch = newBatch();
    append(batch, a, 0, null, 'a0');
    append(batch, a, 0, null, 'a1');
    append(batch, b, 0, null, 'b0');
    append(batch, a, 0, null, 'a2');
    expect(batch.owners).toEqual([a, b, a]);
    expect(batch.ownerFirstDelta).toEqual([0, 2, 3]);
    batch.succeed(100, -1, 0);
    expect(a.done).toEqual([
      { baseOffset: 100, partition: 3 },
      { baseOffset: 103, partition: 3 },
    ]);
    expect(b.done).toEqual([{ baseOffset: 102, partition: 3 }]);
    let woken = 0;
    const failing = newBatch();
    append(failing, b, 0, null, 'x');
    failing.waiters = [() => woken++];
    failing.fail(new Error('nope'));
    expect(b.failed).toHaveLength(1);
    expect(woken).toBe(1);
  });
});
