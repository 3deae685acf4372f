// Properties every assignor must have, and generators of groups, shared by the assignor tests.

import fc from 'fast-check';
import { expect } from 'vitest';
import { flatten, tpKey, type Assignor, type AssignorMember } from '../../../src/client/assignors/index.js';
import type { TopicPartitions } from '../../../src/protocol/index.js';

export interface Group {
  members: AssignorMember[];
  partitions: Map<string, number>;
}

const topicNames = ['a', 'b', 'c', 'd'];

/** Groups of 1..8 members over up to 4 topics of 1..24 partitions; `uniform`: all subscribe to all. */
export function groups(uniform: boolean): fc.Arbitrary<Group> {
  return fc
    .record({
      counts: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 1, maxLength: topicNames.length }),
      members: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
      picks: fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { minLength: 8, maxLength: 8 }),
    })
    .map(({ counts, members, picks }) => {
      const partitions = new Map(counts.map((n, i) => [topicNames[i], n]));
      const topics = [...partitions.keys()];
      return {
        partitions,
        members: members.map((memberId, i) => ({
          memberId,
          subscription: { topics: uniform ? topics : topics.filter((_, t) => picks[i][t]), ownedPartitions: [] },
        })),
      };
    });
}

export function counts(assignment: Map<string, TopicPartitions[]>): number[] {
  return [...assignment.values()].map((list) => flatten(list).length);
}

/** Every partition of a subscribed topic goes to exactly one member subscribed to it; nothing else is assigned. */
export function expectValid(assignor: Assignor, group: Group, assignment = assignor.assign(group.members, group.partitions), complete = true): void {
  expect([...assignment.keys()].sort()).toEqual(group.members.map((m) => m.memberId).sort());
  const seen = new Set<string>();
  for (const member of group.members) {
    for (const { topic, partition } of flatten(assignment.get(member.memberId)!)) {
      expect(member.subscription.topics).toContain(topic);
      expect(partition).toBeLessThan(group.partitions.get(topic)!);
      const k = tpKey(topic, partition);
      expect(seen.has(k)).toBe(false);
      seen.add(k);
    }
  }
  if (!complete) return;
  const subscribed = new Set(group.members.flatMap((m) => m.subscription.topics));
  const expected = [...subscribed].reduce((n, t) => n + (group.partitions.get(t) ?? 0), 0);
  expect(seen.size).toBe(expected);
}

/** The same members in another order give the same assignment. */
export function expectDeterministic(assignor: Assignor, group: Group, shuffledSeed: number): void {
  const shuffled = [...group.members].sort((a, b) => ((hash(a.memberId) ^ shuffledSeed) >>> 0) - ((hash(b.memberId) ^ shuffledSeed) >>> 0));
  expect(assignor.assign(shuffled, group.partitions)).toEqual(assignor.assign(group.members, group.partitions));
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
