// The range assignor (Kafka's RangeAssignor): per topic, its partitions in consecutive ranges over
// the members subscribed to it, the first (partitions % members) members getting one more.
// Application thread. Eager.
//
// Partitions with the same number of different topics go to the same member, which is what joins
// of co-partitioned topics want; over many topics the first members get more in total.

import { compare, result, sortMembers, type Assignor, type AssignorMember } from './assignor.js';

export const rangeAssignor: Assignor = {
  name: 'range',
  protocol: 'eager',
  assign(members: readonly AssignorMember[], partitions: ReadonlyMap<string, number>) {
    const sorted = sortMembers(members);
    const lists = new Map<string, { topic: string; partition: number }[]>(sorted.map((m) => [m.memberId, []]));
    const topics = [...new Set(sorted.flatMap((m) => m.subscription.topics))].sort(compare);
    for (const topic of topics) {
      const count = partitions.get(topic) ?? 0;
      const subscribers = sorted.filter((m) => m.subscription.topics.includes(topic));
      if (count === 0 || subscribers.length === 0) continue;
      const each = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, i) => {
        const take = each + (i < extra ? 1 : 0);
        for (let p = next; p < next + take; p++) lists.get(member.memberId)!.push({ topic, partition: p });
        next += take;
      });
    }
    return result(members, lists);
  },
};
