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

describe('placePartitions: preferred leaders with existing load', () => {
  /** Places `topics` one after another, each with the load of those before (as metadata-state.ts does). */
  function placeAll(n: number, topics: readonly { partitions: number; rf: number }[]) {
    const replicas = new Map<number, number>();
    const leaders = new Map<number, number>();
    return topics.map(({ partitions, rf }) => {
      const r = placePartitions(brokers(n), partitions, rf, { replicas, leaders });
      if (!r.ok) throw new Error(`refused ${partitions}x${rf} on ${n}`);
      for (const a of r.assignments) {
        for (const b of a) replicas.set(b, (replicas.get(b) ?? 0) + 1);
        leaders.set(a[0], (leaders.get(a[0]) ?? 0) + 1);
      }
      return { assignments: r.assignments, leaders: new Map(leaders) };
    });
  }
  const spread = (counts: Map<number, number>, n: number) => {
    const all = Array.from({ length: n }, (_, i) => counts.get(i + 1) ?? 0);
    return Math.max(...all) - Math.min(...all);
  };
  const countsOf = (ids: number[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<number, number>());

  it('spreads a new RF 3 topic\'s leaders over 3 nodes after __consumer_offsets (8 partitions, RF 1 or 3)', () => {
    for (const offsetsRf of [1, 3]) {
      const [, topic] = placeAll(3, [{ partitions: 8, rf: offsetsRf }, { partitions: 3, rf: 3 }]);
      expect(topic.assignments.map((a) => a[0]).sort()).toEqual([1, 2, 3]);
    }
  });

  // Replica counts are not asserted here: the preferred leader is placed before them, so across
  // many topics of mixed replication factors they can drift apart by a few (followers then go to
  // the brokers holding the fewest). Without existing load they stay within one (above).
  it('properties: each new topic\'s leaders within one of even, the cluster\'s leaders too', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.record({ partitions: fc.integer({ min: 1, max: 24 }), rf: fc.integer({ min: 1, max: n }) }), { minLength: 1, maxLength: 10 }))),
        ([n, topics]) => {
          for (const placed of placeAll(n, topics)) {
            expect(spread(countsOf(placed.assignments.map((a) => a[0])), n)).toBeLessThanOrEqual(1);
            expect(spread(placed.leaders, n)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
