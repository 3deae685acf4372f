import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errors, isRillError } from '../../src/errors.js';
import { MAX_CACHED_BATCHES, ProducerStateTable, sequenceAfter, type BatchProducer } from '../../src/storage/producer-state.js';

const batch = (firstSequence: number, count: number, epoch = 0, producerId = 7): BatchProducer => ({
  producerId,
  epoch,
  firstSequence,
  lastSequence: sequenceAfter(firstSequence, count - 1),
});

function refusal(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    if (isRillError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('sequenceAfter', () => {
  it('wraps from 2^31-1 to 0 as Kafka sequences do', () => {
    expect(sequenceAfter(0, 9)).toBe(9);
    expect(sequenceAfter(0x7fffffff, 1)).toBe(0);
    expect(sequenceAfter(0x7ffffffe, 3)).toBe(1);
  });
});

describe('ProducerStateTable', () => {
  it('accepts a new producer only at sequence 0, then only the next sequence', () => {
    const table = new ProducerStateTable();
    expect(refusal(() => table.check(batch(5, 1)))).toBe(Errors.UNKNOWN_PRODUCER_ID.code);
    expect(table.check(batch(0, 10)).kind).toBe('append');
    table.record(batch(0, 10), 100, 109, 1);
    expect(table.check(batch(10, 3)).kind).toBe('append');
    expect(refusal(() => table.check(batch(11, 3)))).toBe(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    expect(refusal(() => table.check(batch(20, 3)))).toBe(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
  });

  it('answers a retry of any of the last five batches with its original offsets', () => {
    const table = new ProducerStateTable();
    let seq = 0;
    for (let i = 0; i < 7; i++) {
      table.record(batch(seq, 2), 1000 + seq, 1001 + seq, 1);
      seq += 2;
    }
    // Batches 2..6 (sequences 4..13) are remembered; batches 0 and 1 fell out.
    for (let i = 7 - MAX_CACHED_BATCHES; i < 7; i++) {
      expect(table.check(batch(2 * i, 2))).toEqual({ kind: 'duplicate', batch: { firstSequence: 2 * i, lastSequence: 2 * i + 1, baseOffset: 1000 + 2 * i, lastOffset: 1001 + 2 * i } });
    }
    expect(refusal(() => table.check(batch(2, 2)))).toBe(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    // Same first sequence, different length: not the same batch.
    expect(refusal(() => table.check(batch(12, 1)))).toBe(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
  });

  it('fences older epochs and starts a newer epoch at sequence 0', () => {
    const table = new ProducerStateTable();
    table.record(batch(0, 5, 3), 0, 4, 1);
    expect(refusal(() => table.check(batch(5, 1, 2)))).toBe(Errors.INVALID_PRODUCER_EPOCH.code);
    expect(refusal(() => table.check(batch(5, 1, 4)))).toBe(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    expect(table.check(batch(0, 1, 4)).kind).toBe('append');
    table.record(batch(0, 1, 4), 5, 5, 2);
    expect(table.get(7)).toMatchObject({ epoch: 4, batches: [{ firstSequence: 0, lastSequence: 0 }] });
    expect(refusal(() => table.check(batch(5, 1, 3)))).toBe(Errors.INVALID_PRODUCER_EPOCH.code);
  });

  it('checks a batch against the earlier batches of the same record set', () => {
    const table = new ProducerStateTable();
    table.record(batch(0, 2), 0, 1, 1);
    expect(table.check(batch(4, 2), [batch(2, 2)]).kind).toBe('append');
    expect(refusal(() => table.check(batch(5, 2), [batch(2, 2)]))).toBe(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    // A new producer's second batch in one set follows its first.
    expect(table.check(batch(3, 1, 0, 9), [batch(0, 3, 0, 9)]).kind).toBe('append');
  });

  it('refuses producer fields that cannot be valid', () => {
    const table = new ProducerStateTable();
    expect(refusal(() => table.check({ producerId: 1, epoch: -1, firstSequence: 0, lastSequence: 0 }))).toBe(Errors.INVALID_RECORD.code);
    expect(refusal(() => table.check({ producerId: 1, epoch: 0, firstSequence: -1, lastSequence: 0 }))).toBe(Errors.INVALID_RECORD.code);
  });

  it('expires idle producers and those whose batches retention deleted', () => {
    const table = new ProducerStateTable();
    table.record(batch(0, 1, 0, 1), 10, 10, 1_000);
    table.record(batch(0, 1, 0, 2), 50, 50, 5_000);
    table.record(batch(0, 1, 0, 3), 90, 90, 9_000);
    expect(table.expire(10_000, 6_000, 0)).toBe(1); // producer 1 idle for 9 s
    expect(table.get(1)).toBeUndefined();
    expect(table.expire(10_000, 60_000, 60)).toBe(1); // producer 2's last batch is below the log start
    expect([...table.entries()].map(([id]) => id)).toEqual([3]);
  });

  it('accepts exactly the in-order stream, whatever mix of retries and gaps arrives (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.constantFrom('send', 'retry', 'skip')), { maxLength: 60 }), (steps) => {
        const table = new ProducerStateTable();
        let next = 0;
        let offset = 0;
        const sent: BatchProducer[] = [];
        for (const [count, action] of steps) {
          if (action === 'retry' && sent.length > 0) {
            const again = sent[sent.length - 1 - (count % Math.min(sent.length, MAX_CACHED_BATCHES))];
            expect(table.check(again).kind).toBe('duplicate');
          } else if (action === 'skip') {
            const gap = batch(sequenceAfter(next, count), 1);
            const code = refusal(() => table.check(gap));
            expect(code).toBe(next === 0 && sent.length === 0 ? Errors.UNKNOWN_PRODUCER_ID.code : Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
          } else {
            const b = batch(next, count);
            expect(table.check(b).kind).toBe('append');
            table.record(b, offset, offset + count - 1, 0);
            sent.push(b);
            offset += count;
            next = sequenceAfter(next, count);
          }
        }
      }),
    );
  });
});
