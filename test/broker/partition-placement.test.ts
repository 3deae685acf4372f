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

  it('keeps counts within one of each other after any sequence of topic creations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 30 }), (workers, topics) => {
        const placement = new PartitionPlacement(workers);
        topics.forEach((partitions, i) => placement.place(`t${i}`, partitions));
        const counts = placement.counts();
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(topics.reduce((a, b) => a + b, 0));
      }),
    );
  });

  it('groups partitions by owner, keeping unknown ones apart', () => {
    const placement = new PartitionPlacement(2);
    placement.place('a', 3);
    const { bySlot, unknown } = placement.groupByOwner([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
      { topic: 'a', partition: 2 },
      { topic: 'a', partition: 3 },
      { topic: 'b', partition: 0 },
    ]);
    expect([...bySlot]).toEqual([
      [0, [{ topic: 'a', partition: 0 }, { topic: 'a', partition: 2 }]],
      [1, [{ topic: 'a', partition: 1 }]],
    ]);
    expect(unknown).toEqual([{ topic: 'a', partition: 3 }, { topic: 'b', partition: 0 }]);
  });

  it('frees a deleted topic\'s share for the next ones', () => {
    const placement = new PartitionPlacement(2);
    placement.place('a', 4);
    placement.remove('a');
    expect(placement.counts()).toEqual([0, 0]);
    expect(placement.place('a', 1)).toEqual([0]);
  });

  it('assigns and unassigns single partitions (a cluster node hosts some of a topic), keeping counts even', () => {
    const placement = new PartitionPlacement(2);
    expect(placement.assign('orders', 4)).toBe(0);
    expect(placement.assign('orders', 1)).toBe(1);
    expect(placement.assign('orders', 4)).toBe(0); // already placed: same owner
    expect(placement.owner('orders', 0)).toBeUndefined();
    expect(placement.partitionsOf(0)).toEqual([{ topic: 'orders', partition: 4 }]);
    expect(placement.groupByOwner([{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 2 }])).toEqual({ bySlot: new Map([[1, [{ topic: 'orders', partition: 1 }]]]), unknown: [{ topic: 'orders', partition: 2 }] });
    placement.unassign('orders', 4);
    expect(placement.counts()).toEqual([0, 1]);
    placement.unassign('orders', 1);
    expect(placement.owner('orders', 1)).toBeUndefined();
    expect(placement.counts()).toEqual([0, 0]);
    expect(() => placement.place('orders', 2)).not.toThrow(); // the topic went with its last partition
  });
});
