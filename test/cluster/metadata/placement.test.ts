// Placement: even by count, leaders spread, racks distinct while any is unused; properties over
// random cluster shapes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placePartitions, type PlacementBroker } from '../../../src/cluster/metadata/placement.js';

const brokers = (n: number, racks = 0): PlacementBroker[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, rack: racks > 0 ? `r${i % racks}` : null }));

describe('placePartitions', () => {
  it('spreads replicas and leaders evenly by count', () => {
    const r = placePartitions(brokers(3), 6, 2);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const counts = new Map<number, number>();
    for (const a of r.assignments) for (const b of a) counts.set(b, (counts.get(b) ?? 0) + 1);
    expect([...counts.values()]).toEqual([4, 4, 4]);
    expect(r.assignments.map((a) => a[0]).sort()).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('refuses a replication factor above the broker count, or no brokers', () => {
    expect(placePartitions(brokers(2), 1, 3)).toEqual({ ok: false, reason: 'replication-factor' });
    expect(placePartitions([], 1, 1)).toEqual({ ok: false, reason: 'no-brokers' });
  });

  it('takes the existing load into account', () => {
    const r = placePartitions(brokers(3), 1, 1, { replicas: new Map([[1, 5], [2, 5]]), leaders: new Map([[1, 5], [2, 5]]) });
    expect(r).toEqual({ ok: true, assignments: [[3]] });
  });

  it('properties: distinct replicas, racks distinct while possible, counts within one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), (n, racks, partitions, rf) => {
        fc.pre(rf <= n);
        const bs = brokers(n, racks);
        const r = placePartitions(bs, partitions, rf);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const rackCount = new Set(bs.map((b) => b.rack)).size;
        const counts = new Map(bs.map((b) => [b.id, 0]));
        for (const a of r.assignments) {
          expect(new Set(a).size).toBe(rf);
          if (racks > 0) expect(new Set(a.map((id) => bs[id - 1].rack)).size).toBe(Math.min(rf, rackCount));
          for (const b of a) counts.set(b, counts.get(b)! + 1);
        }
        if (racks === 0) expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
      }),
    );
  });
});
