// The cooperative-sticky assignor (Kafka's CooperativeStickyAssignor, KIP-429). Application
// thread. Cooperative: members keep consuming what they own while the group rebalances.
//
// 1. Sticky target: each member keeps the partitions it owns (those still subscribed and existing;
//    a partition two members claim stays with the first in member order), up to its quota. Quotas
//    are floor(P/M) with the (P % M) extra slots going to the members that own the most already,
//    so a stable group moves nothing. Partitions over a quota, and unowned ones, go to the
//    subscribed member furthest below its quota (then fewest partitions, then member order).
// 2. Cooperative adjustment: a partition whose target member differs from its current owner is
//    left out of this generation altogether. The owner sees it revoked and rejoins at once; in that
//    second rebalance nobody owns it, and it goes to its target. So no partition is ever consumed
//    by two members at the same time, and the ones that do not move are never paused.
//
// Balance is exact (counts differ by at most one) when members subscribe to the same topics; with
// different subscriptions a member only gets partitions of its topics, as close to its quota as
// those allow.

import { flatten, result, sortMembers, subscribedPartitions, tpKey, type Assignor, type AssignorMember } from './assignor.js';

type TP = { topic: string; partition: number };

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(members: readonly AssignorMember[], partitions: ReadonlyMap<string, number>) {
    const target = stickyTarget(members, partitions);
    // Who owns each partition now, as the members report it (first claim in member order wins).
    const owner = new Map<string, string>();
    for (const m of sortMembers(members)) {
      for (const tp of flatten(m.subscription.ownedPartitions)) if (!owner.has(tpKey(tp.topic, tp.partition))) owner.set(tpKey(tp.topic, tp.partition), m.memberId);
    }
    const lists = new Map<string, TP[]>();
    for (const [memberId, list] of target) {
      lists.set(
        memberId,
        list.filter((tp) => {
          const current = owner.get(tpKey(tp.topic, tp.partition));
          return current === undefined || current === memberId;
        }),
      );
    }
    return result(members, lists);
  },
};

/** Step 1 alone: the balanced, sticky assignment the group converges to. Exported for tests. */
export function stickyTarget(members: readonly AssignorMember[], partitions: ReadonlyMap<string, number>): Map<string, TP[]> {
  const sorted = sortMembers(members);
  const lists = new Map<string, TP[]>(sorted.map((m) => [m.memberId, []]));
  if (sorted.length === 0) return lists;
  const all = subscribedPartitions(sorted, partitions);
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.subscription.topics)]));
  const exists = new Set(all.map((tp) => tpKey(tp.topic, tp.partition)));

  // Valid claims, first in member order wins.
  const taken = new Set<string>();
  const kept = new Map<string, TP[]>();
  for (const m of sorted) {
    const mine: TP[] = [];
    for (const tp of flatten(m.subscription.ownedPartitions)) {
      const k = tpKey(tp.topic, tp.partition);
      if (!exists.has(k) || taken.has(k) || !subscribed.get(m.memberId)!.has(tp.topic)) continue;
      taken.add(k);
      mine.push(tp);
    }
    mine.sort(byTopicPartition);
    kept.set(m.memberId, mine);
  }

  // Quotas: the extra slots go to the members that already own the most (ties in member order).
  const base = Math.floor(all.length / sorted.length);
  let extra = all.length % sorted.length;
  const quota = new Map<string, number>();
  for (const m of [...sorted].sort((a, b) => kept.get(b.memberId)!.length - kept.get(a.memberId)!.length)) {
    quota.set(m.memberId, base + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }

  const unassigned: TP[] = [];
  for (const m of sorted) {
    const mine = kept.get(m.memberId)!;
    const q = quota.get(m.memberId)!;
    // Over quota: give up the highest partitions (deterministic), keep the rest.
    lists.set(m.memberId, mine.slice(0, q));
    unassigned.push(...mine.slice(q));
  }
  for (const tp of all) if (!taken.has(tpKey(tp.topic, tp.partition))) unassigned.push(tp);
  unassigned.sort(byTopicPartition);

  for (const tp of unassigned) {
    let best: string | undefined;
    let bestDeficit = -Infinity;
    let bestCount = Infinity;
    for (const m of sorted) {
      if (!subscribed.get(m.memberId)!.has(tp.topic)) continue;
      const count = lists.get(m.memberId)!.length;
      const deficit = quota.get(m.memberId)! - count;
      if (deficit > bestDeficit || (deficit === bestDeficit && count < bestCount)) {
        best = m.memberId;
        bestDeficit = deficit;
        bestCount = count;
      }
    }
    if (best !== undefined) lists.get(best)!.push(tp);
  }
  return lists;
}

function byTopicPartition(a: TP, b: TP): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
