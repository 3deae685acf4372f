// The rebalance planner: properties over random cluster shapes (counts even to within one,
// minimal moves, racks kept, never two replicas of a partition on one node), and named cases.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planReassignment, type PlannerBroker, type PlannerPartition } from '../../../src/cluster/metadata/reassignment-planner.js';
import { placePartitions } from '../../../src/cluster/metadata/placement.js';

const brokers = (n: number, racks = 0): PlannerBroker[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, rack: racks > 0 ? `r${i % racks}` : null }));

/** Partitions placed on the first `old` brokers (as if the others joined later). */
function placed(all: PlannerBroker[], old: number, partitions: number, rf: number): PlannerPartition[] {
  const r = placePartitions(all.slice(0, old), partitions, rf);
  if (!r.ok) throw new Error('placement failed');
  return r.assignments.map((replicas, partition) => ({ topic: 't', partition, replicas, movable: true }));
}

function after(parts: readonly PlannerPartition[], moves: ReturnType<typeof planReassignment>): number[][] {
  const byPartition = new Map(moves.map((m) => [m.partition, m.target]));
  return parts.map((p) => byPartition.get(p.partition) ?? [...p.replicas]);
}

function counts(bs: readonly PlannerBroker[], assignments: number[][], first = false): number[] {
  const c = new Map(bs.map((b) => [b.id, 0]));
  for (const a of assignments) for (const r of first ? a.slice(0, 1) : a) c.set(r, c.get(r)! + 1);
  return [...c.values()];
}

const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);

describe('planReassignment', () => {
  it('gives a new node its share by moving exactly the excess, followers before leaders', () => {
    const bs = brokers(3);
    const parts = placed(bs, 2, 6, 2); // 12 replicas on nodes 1 and 2
    const moves = planReassignment(bs, parts);
    const final = after(parts, moves);
    expect(counts(bs, final)).toEqual([4, 4, 4]);
    const added = moves.reduce((n, m) => n + m.target.filter((r) => !m.replicas.includes(r)).length, 0);
    expect(added).toBe(4);
    expect(spread(counts(bs, final, true))).toBeLessThanOrEqual(1);
  });

  it('moves nothing on a balanced cluster, and leaves unmovable partitions alone', () => {
    const bs = brokers(3);
    expect(planReassignment(bs, placed(bs, 3, 12, 2))).toEqual([]);
    const stuck = placed(bs, 1, 4, 1).map((p) => ({ ...p, movable: false }));
    expect(planReassignment(bs, stuck)).toEqual([]);
  });

  it('properties: within one, minimal, distinct replicas, racks never fewer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 3 }),
        (old, joined, racks, partitions, rf) => {
          fc.pre(rf <= old);
          const bs = brokers(old + joined, racks);
          const parts = placed(bs, old, partitions, rf);
          const moves = planReassignment(bs, parts);
          const final = after(parts, moves);
          const rackOf = (id: number) => bs[id - 1].rack;
          final.forEach((replicas, i) => {
            expect(new Set(replicas).size).toBe(replicas.length);
            expect(replicas.length).toBe(parts[i].replicas.length);
            if (racks > 0) expect(new Set(replicas.map(rackOf)).size).toBeGreaterThanOrEqual(new Set(parts[i].replicas.map(rackOf)).size);
          });
          for (const m of moves) expect(m.target).not.toEqual(m.replicas);
          const before = counts(bs, parts.map((p) => [...p.replicas]));
          const now = counts(bs, final);
          // Replicas that change node: never more than the excess above the even share.
          const total = before.reduce((a, b) => a + b, 0);
          const ceil = Math.ceil(total / bs.length);
          const floor = Math.floor(total / bs.length);
          const excess = before.reduce((n, c) => n + Math.max(0, c - ceil), 0);
          const deficit = before.reduce((n, c) => n + Math.max(0, floor - c), 0);
          // Without racks the busiest always gives to the idlest: the larger of the two is the
          // least any plan can move. Racks may force a detour through a broker at the even share.
          const bound = racks === 0 ? Math.max(excess, deficit) : excess + deficit;
          const added = moves.reduce((n, m) => n + m.target.filter((r) => !m.replicas.includes(r)).length, 0);
          expect(added).toBeLessThanOrEqual(bound);
          if (racks === 0) {
            expect(spread(now)).toBeLessThanOrEqual(1);
            expect(spread(counts(bs, final, true))).toBeLessThanOrEqual(Math.max(1, spread(counts(bs, parts.map((p) => [...p.replicas]), true))));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
