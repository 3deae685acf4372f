import { describe, expect, it } from 'vitest';
import { OwnerKind, decodeOwnerMessage, encodeOwnerMessage } from '../../src/broker/owner-messages.js';

/** The parts of an entry laid one after the other into a SharedArrayBuffer, as a ring holds them. */
function inSharedMemory(parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  const entry = new Uint8Array(new SharedArrayBuffer(length + 64), 32, length);
  let at = 0;
  for (const part of parts) {
    entry.set(part, at);
    at += part.length;
  }
  return entry;
}

const fetchAnswer = (n: number) => ({
  errorCode: 0,
  partitions: Array.from({ length: n }, (_, i) => ({
    topic: `orders-${i}`,
    partition: i,
    errorCode: 0,
    highWatermark: 1_000_000 + i,
    logStartOffset: 0,
    file: `/var/lib/rill/orders-${i}/00000000000000000000.log`,
    position: 4096 * i,
    length: 1100,
  })),
});

describe('owner messages', () => {
  it('decode what was encoded, from a plain buffer and from shared memory (a ring entry)', () => {
    const body = new Uint8Array([1, 2, 3, 4, 5]);
    for (const meta of [{ topic: 't', partition: 0, acks: 1 }, fetchAnswer(8)]) {
      const parts = encodeOwnerMessage(77, OwnerKind.Fetch, meta, body);
      for (const entry of [Buffer.concat(parts), inSharedMemory(parts)]) {
        const message = decodeOwnerMessage(entry);
        expect(message.requestId).toBe(77);
        expect(message.kind).toBe(OwnerKind.Fetch);
        expect(message.meta).toEqual(meta);
        expect([...message.body]).toEqual([...body]);
      }
    }
  });

  it('decode meta larger than the scratch copy, and keep earlier results intact', () => {
    const big = fetchAnswer(500); // tens of KiB of meta: the scratch grows
    const small = fetchAnswer(2);
    const first = decodeOwnerMessage(inSharedMemory(encodeOwnerMessage(1, OwnerKind.Fetch, small)));
    const second = decodeOwnerMessage(inSharedMemory(encodeOwnerMessage(2, OwnerKind.Fetch, big)));
    expect(second.meta).toEqual(big);
    expect(first.meta).toEqual(small);
  });

  it('copy binary fields out: they do not change when the ring memory is reused', () => {
    const meta = { key: new Uint8Array([9, 8, 7]) };
    const entry = inSharedMemory(encodeOwnerMessage(3, OwnerKind.Group, meta));
    const decoded = decodeOwnerMessage<{ key: Uint8Array }>(entry);
    entry.fill(0);
    decodeOwnerMessage(inSharedMemory(encodeOwnerMessage(4, OwnerKind.Group, { key: new Uint8Array([1, 1, 1]) })));
    expect([...decoded.meta.key]).toEqual([9, 8, 7]);
  });
});
