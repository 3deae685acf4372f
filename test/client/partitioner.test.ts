// murmur2 against Kafka's own test vectors, and the sticky partitioner's KIP-480 behaviour.

import { describe, expect, it } from 'vitest';
import { StickyPartitioner, murmur2, partitionForKey, toPositive } from '../../src/client/partitioner.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('murmur2', () => {
  // org.apache.kafka.common.utils.UtilsTest.testMurmur2 (the byte vector is from vectors generated
  // with the Java client and used by other Kafka clients' tests).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('matches Kafka for %j', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected);
  });

  it('matches Kafka for raw bytes', () => {
    expect(murmur2(new Uint8Array([12, 42, 56, 24, 109, 111]))).toBe(274204207);
  });

  // Vectors other clients check against Kafka's Java implementation (Akka's Kafka sharding); every
  // length mod 4 is covered.
  it.each([
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ])('matches the Java client for %j', (input, expected) => {
    expect(murmur2(bytes(input))).toBe(expected);
  });

  it('hashes a sub-range as if it were its own array', () => {
    const padded = Buffer.concat([bytes('xx'), bytes('foobar'), bytes('yyy')]);
    expect(murmur2(padded, 2, 8)).toBe(-790332482);
  });
});

describe('partitionForKey', () => {
  it('is toPositive(murmur2(key)) % n, as Kafka places keys', () => {
    expect(toPositive(-790332482)).toBe(1357151166);
    expect(toPositive(-0x8000_0000)).toBe(0);
    for (const n of [1, 2, 3, 6, 10, 12, 100]) {
      expect(partitionForKey('foobar', n)).toBe(1357151166 % n);
      expect(partitionForKey('21', n)).toBe((-973932308 & 0x7fffffff) % n);
    }
  });

  it('gives a string key and its UTF-8 bytes the same partition', () => {
    for (const key of ['', 'a', 'customer-42', 'ünïcødé ✓', 'x'.repeat(5000)]) {
      for (const n of [1, 7, 64]) expect(partitionForKey(key, n)).toBe(partitionForKey(bytes(key), n));
    }
  });
});

describe('StickyPartitioner', () => {
  const sequence = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length];
  };

  it('sticks to one partition until a new batch is needed, then moves to another', () => {
    const sticky = new StickyPartitioner(sequence(0.5, 0.0, 0.99));
    const first = sticky.partition('t', 4);
    expect(first).toBe(2);
    expect(sticky.partition('t', 4)).toBe(2);
    const second = sticky.onNewBatch('t', 4, first);
    expect(second).not.toBe(first);
    expect(sticky.partition('t', 4)).toBe(second);
    const third = sticky.onNewBatch('t', 4, second);
    expect(third).not.toBe(second);
  });

  it('never picks the partition it leaves, and covers all the others', () => {
    const sticky = new StickyPartitioner();
    const seen = new Set<number>();
    let current = sticky.partition('t', 5);
    for (let i = 0; i < 500; i++) {
      const next = sticky.onNewBatch('t', 5, current);
      expect(next).not.toBe(current);
      expect(next).toBeGreaterThanOrEqual(0);
      expect(next).toBeLessThan(5);
      seen.add(next);
      current = next;
    }
    expect(seen.size).toBe(5);
  });

  it('keeps topics apart, and stays put with one partition', () => {
    const sticky = new StickyPartitioner(sequence(0.9));
    expect(sticky.partition('a', 10)).toBe(9);
    expect(sticky.partition('b', 2)).toBe(1);
    expect(sticky.onNewBatch('c', 1, sticky.partition('c', 1))).toBe(0);
  });

  it('ignores a new-batch signal for a partition that is no longer the sticky one', () => {
    const sticky = new StickyPartitioner(sequence(0.1, 0.6));
    const current = sticky.partition('t', 4);
    expect(sticky.onNewBatch('t', 4, (current + 1) % 4)).toBe(current);
  });
});
