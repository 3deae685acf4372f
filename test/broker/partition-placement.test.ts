import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PartitionPlacement } from '../../src/broker/partition-placement.js';

describe('PartitionPlacement', () => {
  it('spreads a topic over workers before doubling up', () => {
    const placement = new PartitionPlacement(4);
    expect(placement.place('orders', 6)).toEqual([0, 1, 2, 3, 0, 1]);
    expect(placement.place('audit', 2)).toEqual([2, 3]);
    expect(placement.counts()).toEqual([2, 2, 2, 2]);
    expect(placement.owner('orders', 5)).toBe(1);
    expect(placement.owner('orders', 6)).toBeUndefined();
    expect(placement.owner('nope', 0)).toBeUndefined();
    expect(placement.partitionsOf(3)).toEqual([
      { topic: 'orders', partition: 3 },
      { topic: 'audit', partition: 1 },
    ]);
  });

  it('keeps counts within one of each other whatever is created and deleted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 20 })), { maxLength: 30 }),
        (workers, steps) => {
          const placement = new PartitionPlacement(workers);
          let n = 0;
          for (const [create, partitions] of steps) {
            if (create || n === 0) placement.place(`t${n++}`, partitions);
            else placement.remove(`t${n - 1}`);
            // Deletions can unbalance; creations always go to the least loaded, so after a
            // creation-only history the spread is within one.
          }
          const fresh = new PartitionPlacement(workers);
          steps.forEach(([, partitions], i) => fresh.place(`u${i}`, partitions));
          const counts = fresh.counts();
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          expect(counts.reduce((a, b) => a + b, 0)).toBe(steps.reduce((a, [, p]) => a + p, 0));
        },
      ),
    );
  });

  it('frees a deleted topic\'s share for the next ones', () => {
    const placement = new PartitionPlacement(2);
    placement.place('a', 4);
    placement.remove('a');
    expect(placement.counts()).toEqual([0, 0]);
    expect(placement.place('a', 1)).toEqual([0]);
  });
});
