import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rangeAssignor } from '../../../src/client/assignors/index.js';
import { expectDeterministic, expectValid, groups } from './assignor-properties.js';

const sub = (topics: string[]) => ({ topics, ownedPartitions: [] });

describe('range assignor', () => {
  it('gives each member a consecutive range per topic, the first members one more', () => {
    const members = ['m1', 'm2', 'm3'].map((memberId) => ({ memberId, subscription: sub(['t', 'u']) }));
    const assignment = rangeAssignor.assign(members, new Map([['t', 7], ['u', 3]]));
    expect(assignment.get('m1')).toEqual([{ topic: 't', partitions: [0, 1, 2] }, { topic: 'u', partitions: [0] }]);
    expect(assignment.get('m2')).toEqual([{ topic: 't', partitions: [3, 4] }, { topic: 'u', partitions: [1] }]);
    expect(assignment.get('m3')).toEqual([{ topic: 't', partitions: [5, 6] }, { topic: 'u', partitions: [2] }]);
  });

  it('orders static members by groupInstanceId, so a restarted one gets the same range', () => {
    const before = rangeAssignor.assign(
      [
        { memberId: 'z-1', groupInstanceId: 'a', subscription: sub(['t']) },
        { memberId: 'y-1', groupInstanceId: 'b', subscription: sub(['t']) },
      ],
      new Map([['t', 4]]),
    );
    const after = rangeAssignor.assign(
      [
        { memberId: 'a-2', groupInstanceId: 'b', subscription: sub(['t']) },
        { memberId: 'z-1', groupInstanceId: 'a', subscription: sub(['t']) },
      ],
      new Map([['t', 4]]),
    );
    expect(before.get('z-1')).toEqual(after.get('z-1'));
    expect(before.get('y-1')).toEqual(after.get('a-2'));
  });

  it('assigns every subscribed partition to exactly one subscribed member', () => {
    fc.assert(fc.property(groups(false), (group) => expectValid(rangeAssignor, group)));
  });

  it('balances each topic to within one partition among its subscribers', () => {
    fc.assert(
      fc.property(groups(false), (group) => {
        const assignment = rangeAssignor.assign(group.members, group.partitions);
        for (const topic of group.partitions.keys()) {
          const per = group.members
            .filter((m) => m.subscription.topics.includes(topic))
            .map((m) => assignment.get(m.memberId)!.find((t) => t.topic === topic)?.partitions.length ?? 0);
          if (per.length > 0) expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('is deterministic whatever the member order', () => {
    fc.assert(fc.property(groups(false), fc.integer(), (group, seed) => expectDeterministic(rangeAssignor, group, seed)));
  });
});
