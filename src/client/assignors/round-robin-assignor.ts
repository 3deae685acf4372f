// The round-robin assignor (Kafka's RoundRobinAssignor): every subscribed partition, sorted by
// topic and partition, dealt in turn to the members (skipping members not subscribed to its
// topic). Application thread. Eager.
//
// With equal subscriptions the counts differ by at most one across the whole group, unlike range.

import { result, sortMembers, subscribedPartitions, type Assignor, type AssignorMember } from './assignor.js';

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  protocol: 'eager',
  assign(members: readonly AssignorMember[], partitions: ReadonlyMap<string, number>) {
    const sorted = sortMembers(members);
    const lists = new Map<string, { topic: string; partition: number }[]>(sorted.map((m) => [m.memberId, []]));
    if (sorted.length === 0) return result(members, lists);
    let turn = 0;
    for (const tp of subscribedPartitions(sorted, partitions)) {
      for (let tried = 0; tried < sorted.length; tried++) {
        const member = sorted[(turn + tried) % sorted.length];
        if (!member.subscription.topics.includes(tp.topic)) continue;
        lists.get(member.memberId)!.push(tp);
        turn = (turn + tried + 1) % sorted.length;
        break;
      }
    }
    return result(members, lists);
  },
};
