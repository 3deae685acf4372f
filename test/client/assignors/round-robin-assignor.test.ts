import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundRobinAssignor } from '../../../src/client/assignors/index.js';
import { counts, expectDeterministic, expectValid, groups } from './assignor-properties.js';

describe('round-robin assignor', () => {
  it('deals partitions of all topics in turn', () => {
    const members = ['m1', 'm2'].map((memberId) => ({ memberId, subscription: { topics: ['t', 'u'], ownedPartitions: [] } }));
    const assignment = roundRobinAssignor.assign(members, new Map([['t', 3], ['u', 2]]));
    expect(assignment.get('m1')).toEqual([{ topic: 't', partitions: [0, 2] }, { topic: 'u', partitions: [1] }]);
    expect(assignment.get('m2')).toEqual([{ topic: 't', partitions: [1] }, { topic: 'u', partitions: [0] }]);
  });

  it('skips members not subscribed to a topic', () => {
    const assignment = roundRobinAssignor.assign(
      [
        { memberId: 'm1', subscription: { topics: ['t'], ownedPartitions: [] } },
        { memberId: 'm2', subscription: { topics: ['u'], ownedPartitions: [] } },
      ],
      new Map([['t', 2], ['u', 2]]),
    );
    expect(assignment.get('m1')).toEqual([{ topic: 't', partitions: [0, 1] }]);
    expect(assignment.get('m2')).toEqual([{ topic: 'u', partitions: [0, 1] }]);
  });

  it('assigns every subscribed partition to exactly one subscribed member', () => {
    fc.assert(fc.property(groups(false), (group) => expectValid(roundRobinAssignor, group)));
  });

  it('balances the whole group to within one partition when subscriptions are equal', () => {
    fc.assert(
      fc.property(groups(true), (group) => {
        const n = counts(roundRobinAssignor.assign(group.members, group.partitions));
        expect(Math.max(...n) - Math.min(...n)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is deterministic whatever the member order', () => {
    fc.assert(fc.property(groups(false), fc.integer(), (group, seed) => expectDeterministic(roundRobinAssignor, group, seed)));
  });
});
