// What a partition assignor is, and the helpers all three share. Application thread (the group
// leader's consumer runs the assignor; the coordinator only checks and hands out the result).
//
// An assignor is a pure function from the members of a generation (each with its subscription and,
// for cooperative rebalancing, the partitions it owns now) and the partition count of every
// subscribed topic, to each member's partitions. It must be deterministic: the same input in any
// member order gives the same output, so that every leader a group might elect agrees.
//
// Members are ordered by groupInstanceId when they have one, else memberId: a static member that
// restarts (new memberId, same groupInstanceId) then gets the same place, and the same partitions.

import { type Subscription, type TopicPartitions } from '../../protocol/index.js';

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface AssignorMember {
  memberId: string;
  groupInstanceId?: string;
  subscription: Subscription;
}

export interface Assignor {
  /** The protocol name members list in JoinGroup: 'range', 'roundrobin', 'cooperative-sticky'. */
  readonly name: string;
  /**
   * 'eager': members give up every partition before they rejoin. 'cooperative': members keep
   * their partitions through the rebalance, and the assignor never hands a partition straight from
   * one member to another in one generation (it is revoked first; a second rebalance assigns it).
   */
  readonly protocol: RebalanceProtocol;
  /** Every member's partitions (members with none get an empty list); `partitions` by topic. */
  assign(members: readonly AssignorMember[], partitions: ReadonlyMap<string, number>): Map<string, TopicPartitions[]>;
}

/** A topic-partition as one string key, for sets and maps. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function fromTpKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** The order assignors give members: by groupInstanceId if static, else memberId; ties by memberId. */
export function sortMembers<M extends { memberId: string; groupInstanceId?: string }>(members: readonly M[]): M[] {
  const rank = (m: M) => m.groupInstanceId ?? m.memberId;
  return [...members].sort((a, b) => compare(rank(a), rank(b)) || compare(a.memberId, b.memberId));
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every partition of the topics some member subscribes to, sorted by topic then partition. */
export function subscribedPartitions(members: readonly AssignorMember[], partitions: ReadonlyMap<string, number>): { topic: string; partition: number }[] {
  const topics = [...new Set(members.flatMap((m) => m.subscription.topics))].filter((t) => (partitions.get(t) ?? 0) > 0).sort(compare);
  return topics.flatMap((topic) => Array.from({ length: partitions.get(topic)! }, (_, partition) => ({ topic, partition })));
}

/** Lists of partitions (any order) as TopicPartitions, topics and partitions sorted. */
export function toTopicPartitions(list: Iterable<{ topic: string; partition: number }>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of list) {
    let partitions = byTopic.get(topic);
    if (partitions === undefined) byTopic.set(topic, (partitions = []));
    partitions.push(partition);
  }
  return [...byTopic.keys()].sort(compare).map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

/** Flattens TopicPartitions to a list of { topic, partition }. */
export function flatten(list: readonly TopicPartitions[]): { topic: string; partition: number }[] {
  return list.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}

/** Builds the result map from per-member lists, every member present. */
export function result(members: readonly AssignorMember[], lists: ReadonlyMap<string, { topic: string; partition: number }[]>): Map<string, TopicPartitions[]> {
  return new Map(members.map((m) => [m.memberId, toTopicPartitions(lists.get(m.memberId) ?? [])]));
}
