import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  OwnerKind,
  decodeOwnerRequest,
  decodeOwnerResult,
  encodeOwnerRequest,
  encodeOwnerResult,
  type FetchMeta,
  type FetchResultMeta,
  type ProduceMeta,
  type ProduceResultMeta,
  type ReplicaFetchMeta,
} from '../../src/broker/owner-messages.js';

/** The parts of an entry laid one after the other into a SharedArrayBuffer, as a ring holds them. */
function inSharedMemory(parts: Uint8Array[], at = 32): Uint8Array {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  const entry = new Uint8Array(new SharedArrayBuffer(length + at + 32), at, length);
  let pos = 0;
  for (const part of parts) {
    entry.set(part, pos);
    pos += part.length;
  }
  return entry;
}

/** Both ways an entry is read: a copy in plain memory, and a ring entry in shared memory. */
function entries(parts: Uint8Array[]): Uint8Array[] {
  return [Buffer.concat(parts), inSharedMemory(parts)];
}

const fetchAnswer = (n: number, prefix = '/var/lib/rill'): FetchResultMeta => ({
  errorCode: 0,
  message: undefined,
  partitions: Array.from({ length: n }, (_, i) => ({
    errorCode: 0,
    message: undefined,
    topic: `orders-${i}`,
    partition: i,
    highWatermark: 1_000_000 + i,
    logStartOffset: 0,
    file: `${prefix}/orders-${i}/00000000000000000000.log`,
    fileId: 9_000_000 + i,
    position: 4096 * i,
    length: 1100,
    logEndOffset: undefined,
  })),
});

describe('owner messages', () => {
  it('carry a produce both ways, with the body after the meta', () => {
    const body = new Uint8Array([1, 2, 3, 4, 5]);
    const requests: ProduceMeta[] = [
      { topic: 'orders', partition: 3, acks: 1, timeoutMs: undefined },
      { topic: 'orders', partition: 0, acks: -1, timeoutMs: 30_000 },
    ];
    for (const meta of requests) {
      for (const entry of entries(encodeOwnerRequest(77, OwnerKind.Produce, meta, body))) {
        const message = decodeOwnerRequest(entry);
        expect(message.requestId).toBe(77);
        expect(message.kind).toBe(OwnerKind.Produce);
        expect(message.meta).toEqual(meta);
        expect([...message.body]).toEqual([...body]);
      }
    }
    const results: ProduceResultMeta[] = [
      { errorCode: 0, message: undefined, baseOffset: 2 ** 40 + 7, logStartOffset: 0 },
      { errorCode: 6, message: 'not the leader of orders-3 (épreuve ✓)', baseOffset: -1, logStartOffset: -1 },
    ];
    for (const meta of results) {
      for (const entry of entries(encodeOwnerResult(0xfffffffe, OwnerKind.Produce, meta))) {
        const message = decodeOwnerResult(entry);
        expect(message.requestId).toBe(0xfffffffe);
        expect(message.meta).toEqual(meta);
        expect(message.body.length).toBe(0);
      }
    }
  });

  it('carry a fetch and its answer, null files and errors included', () => {
    const request: FetchMeta = {
      partitions: [0, 1, 2, 3].map((p) => ({ topic: 'latency', partition: p * 2, offset: 12_345 + p, maxBytes: 1 << 20 })),
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 8 << 20,
    };
    for (const entry of entries(encodeOwnerRequest(5, OwnerKind.Fetch, request))) expect(decodeOwnerRequest(entry).meta).toEqual(request);

    const answer = fetchAnswer(3);
    answer.partitions[1] = { ...answer.partitions[1], errorCode: 1, message: 'offset 9 is outside [10, 20]', file: null, fileId: 0, length: 0 };
    for (const entry of entries(encodeOwnerResult(5, OwnerKind.Fetch, answer))) expect(decodeOwnerResult(entry).meta).toEqual(answer);

    const failed: FetchResultMeta = { errorCode: -1, message: 'unexpected', partitions: [] };
    for (const entry of entries(encodeOwnerResult(6, OwnerKind.Fetch, failed))) expect(decodeOwnerResult(entry).meta).toEqual(failed);

    const replica = fetchAnswer(2);
    replica.partitions[0].logEndOffset = 1_000_010;
    for (const entry of entries(encodeOwnerResult(7, OwnerKind.ReplicaFetch, replica))) expect(decodeOwnerResult(entry).meta).toEqual(replica);

    const follower: ReplicaFetchMeta = {
      replicaId: 2,
      partitions: [{ topic: 'orders', partition: 1, leaderEpoch: 7, fetchOffset: 2 ** 35, maxBytes: 1 << 20 }],
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 8 << 20,
    };
    for (const entry of entries(encodeOwnerRequest(9, OwnerKind.ReplicaFetch, follower))) expect(decodeOwnerRequest(entry).meta).toEqual(follower);

    for (const entry of entries(encodeOwnerRequest(8, OwnerKind.EndWait, { requestId: 4_000_000_000 }))) expect(decodeOwnerRequest(entry).meta).toEqual({ requestId: 4_000_000_000 });
  });

  it('grow the encoding buffer for large meta, and earlier decodings stay intact', () => {
    const small = fetchAnswer(2);
    const big = fetchAnswer(2_000, '/var/lib/rill/' + 'x'.repeat(600)); // ~1.4 MB; paths past the string cache's limit
    const first = decodeOwnerResult(inSharedMemory(encodeOwnerResult(1, OwnerKind.Fetch, small)));
    const second = decodeOwnerResult(inSharedMemory(encodeOwnerResult(2, OwnerKind.Fetch, big)));
    expect(second.meta).toEqual(big);
    expect(first.meta).toEqual(small);
  });

  it('never hand back a string of other bytes when the ring memory is reused', () => {
    // Same lengths, same first, middle and last bytes: the same cache slot, other strings.
    const ring = new Uint8Array(new SharedArrayBuffer(4096));
    const topics = ['aXbYa', 'aYbXa', 'aZbZa', 'aXbYa'];
    for (const topic of topics) {
      const [head] = encodeOwnerRequest(1, OwnerKind.Produce, { topic, partition: 0, acks: 1, timeoutMs: undefined });
      ring.set(head, 100);
      expect((decodeOwnerRequest<ProduceMeta>(ring.subarray(100, 100 + head.length)).meta).topic).toBe(topic);
    }
  });

  it('round-trip any fetch answer (property)', () => {
    const partitionResult = fc.record({
      errorCode: fc.integer({ min: -1, max: 120 }),
      message: fc.option(fc.string(), { nil: undefined }),
      topic: fc.string({ minLength: 1, maxLength: 249 }),
      partition: fc.nat(),
      highWatermark: fc.maxSafeNat(),
      logStartOffset: fc.maxSafeNat(),
      file: fc.option(fc.string({ unit: 'grapheme', maxLength: 300 }), { nil: null }),
      fileId: fc.maxSafeNat(),
      position: fc.nat(),
      length: fc.nat(),
      logEndOffset: fc.option(fc.maxSafeNat(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(partitionResult, { maxLength: 20 }), fc.nat({ max: 200 }), (partitions, at) => {
        const meta: FetchResultMeta = { errorCode: 0, message: undefined, partitions };
        const decoded = decodeOwnerResult(inSharedMemory(encodeOwnerResult(9, OwnerKind.Fetch, meta), at)).meta;
        expect(decoded).toEqual(meta);
      }),
    );
  });

  it('keep the other kinds in msgpack, binary fields copied out of the ring', () => {
    const meta = { key: new Uint8Array([9, 8, 7]) };
    const entry = inSharedMemory(encodeOwnerRequest(3, OwnerKind.Group, meta));
    const decoded = decodeOwnerRequest<{ key: Uint8Array }>(entry);
    entry.fill(0);
    decodeOwnerRequest(inSharedMemory(encodeOwnerRequest(4, OwnerKind.Group, { key: new Uint8Array([1, 1, 1]) })));
    expect([...decoded.meta.key]).toEqual([9, 8, 7]);
    const listed = { errorCode: 0, partitions: [{ topic: 't', partition: 1, errorCode: 0, offset: 5, timestamp: 17 }] };
    expect(decodeOwnerResult(inSharedMemory(encodeOwnerResult(5, OwnerKind.ListOffsets, listed))).meta).toEqual(listed);
  });

  it('reject an entry whose meta does not match its layout', () => {
    const [head] = encodeOwnerRequest(1, OwnerKind.Produce, { topic: 'orders', partition: 0, acks: 1, timeoutMs: undefined });
    const truncated = Buffer.from(head.subarray(0, head.length - 4));
    truncated.writeInt32BE(truncated.length - 9, 5); // the prefix's meta length agrees; the layout does not
    expect(() => decodeOwnerRequest(truncated)).toThrow(RangeError);
    expect(() => decodeOwnerRequest(new Uint8Array(4))).toThrow(/shorter than its prefix/);
  });
});
