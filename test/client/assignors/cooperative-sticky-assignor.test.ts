import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cooperativeStickyAssignor, flatten, tpKey, type AssignorMember } from '../../../src/client/assignors/index.js';
import { stickyTarget } from '../../../src/client/assignors/cooperative-sticky-assignor.js';
import type { TopicPartitions } from '../../../src/protocol/index.js';
import { counts, expectDeterministic, expectValid, groups, type Group } from './assignor-properties.js';

/** The members again, each owning what `assignment` gave it (what they report at the next join). */
function owning(members: AssignorMember[], assignment: Map<string, TopicPartitions[]>): AssignorMember[] {
  return members.map((m) => ({ ...m, subscription: { ...m.subscription, ownedPartitions: assignment.get(m.memberId) ?? [] } }));
}

/** Runs rebalances until the assignment stops changing (the cooperative second round); returns each round. */
function converge(group: Group): Map<string, TopicPartitions[]>[] {
  const rounds: Map<string, TopicPartitions[]>[] = [];
  let members = group.members;
  for (let i = 0; i < 4; i++) {
    const assignment = cooperativeStickyAssignor.assign(members, group.partitions);
    rounds.push(assignment);
    const next = owning(members, assignment);
    if (JSON.stringify(next) === JSON.stringify(members)) break;
    members = next;
  }
  return rounds;
}

describe('cooperative-sticky assignor', () => {
  it('assigns everything to a new group at once, balanced', () => {
    fc.assert(
      fc.property(groups(true), (group) => {
        const assignment = cooperativeStickyAssignor.assign(group.members, group.partitions);
        expectValid(cooperativeStickyAssignor, group, assignment);
        const n = counts(assignment);
        expect(Math.max(...n) - Math.min(...n)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('never assigns a partition to anyone but its owner in the same generation', () => {
    fc.assert(
      fc.property(groups(false), fc.array(fc.nat(), { maxLength: 200 }), (group, owners) => {
        // Owned partitions drawn at random (possibly claimed by two members, possibly not subscribed).
        const all = [...group.partitions].flatMap(([topic, n]) => Array.from({ length: n }, (_, partition) => ({ topic, partition })));
        const members = group.members.map((m, i) => ({
          ...m,
          subscription: { ...m.subscription, ownedPartitions: groupByTopic(all.filter((_, j) => owners[j] !== undefined && owners[j] % (group.members.length + 1) === i)) },
        }));
        const assignment = cooperativeStickyAssignor.assign(members, group.partitions);
        expectValid(cooperativeStickyAssignor, { ...group, members }, assignment, false);
        const firstOwner = new Map<string, string>();
        for (const m of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
          for (const tp of flatten(m.subscription.ownedPartitions)) if (!firstOwner.has(tpKey(tp.topic, tp.partition))) firstOwner.set(tpKey(tp.topic, tp.partition), m.memberId);
        }
        for (const [memberId, list] of assignment) {
          for (const tp of flatten(list)) {
            const owner = firstOwner.get(tpKey(tp.topic, tp.partition));
            expect(owner === undefined || owner === memberId).toBe(true);
          }
        }
      }),
    );
  });

  it('converges in at most two rounds to a complete, balanced assignment', () => {
    fc.assert(
      fc.property(groups(true), fc.integer({ min: 1, max: 3 }), (group, added) => {
        // A stable group, then `added` new members join.
        const stable = owning(group.members, cooperativeStickyAssignor.assign(group.members, group.partitions));
        const joined = [...stable, ...Array.from({ length: added }, (_, i) => ({ memberId: `~new${i}`, subscription: { topics: stable[0].subscription.topics, ownedPartitions: [] } }))];
        const rounds = converge({ members: joined, partitions: group.partitions });
        expect(rounds.length).toBeLessThanOrEqual(3); // two that change, one to confirm
        const final = rounds[rounds.length - 1];
        expectValid(cooperativeStickyAssignor, { members: joined, partitions: group.partitions }, final);
        const n = counts(final);
        expect(Math.max(...n) - Math.min(...n)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is sticky: a stable group keeps everything, and a join moves only what balance needs', () => {
    fc.assert(
      fc.property(groups(true), (group) => {
        const first = cooperativeStickyAssignor.assign(group.members, group.partitions);
        const stable = owning(group.members, first);
        expect(cooperativeStickyAssignor.assign(stable, group.partitions)).toEqual(first);
        // One member joins: each old member gives up only what is over its new quota.
        const joined = [...stable, { memberId: '~new', subscription: { topics: stable[0].subscription.topics, ownedPartitions: [] } }];
        const target = stickyTarget(joined, group.partitions);
        const total = [...group.partitions.values()].reduce((a, b) => a + b, 0);
        const moved = stable.reduce((n, m) => n + flatten(first.get(m.memberId)!).filter((tp) => !target.get(m.memberId)!.some((t) => t.topic === tp.topic && t.partition === tp.partition)).length, 0);
        expect(moved).toBeLessThanOrEqual(Math.ceil(total / joined.length));
        expect(target.get('~new')!.length).toBe(moved);
      }),
    );
  });

  it('when a member leaves, the others keep what they had and share its partitions', () => {
    fc.assert(
      fc.property(groups(true).filter((g) => g.members.length >= 2), (group) => {
        const stable = owning(group.members, cooperativeStickyAssignor.assign(group.members, group.partitions));
        const rest = stable.slice(1);
        const next = cooperativeStickyAssignor.assign(rest, group.partitions);
        expectValid(cooperativeStickyAssignor, { members: rest, partitions: group.partitions }, next);
        for (const m of rest) {
          const had = flatten(m.subscription.ownedPartitions).map((tp) => tpKey(tp.topic, tp.partition));
          const has = new Set(flatten(next.get(m.memberId)!).map((tp) => tpKey(tp.topic, tp.partition)));
          const lost = had.filter((k) => !has.has(k)).length;
          expect(lost).toBeLessThanOrEqual(1); // at most the one extra slot can move
        }
      }),
    );
  });

  it('is deterministic whatever the member order', () => {
    fc.assert(fc.property(groups(false), fc.integer(), (group, seed) => expectDeterministic(cooperativeStickyAssignor, group, seed)));
  });
});

function groupByTopic(list: { topic: string; partition: number }[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of list) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
