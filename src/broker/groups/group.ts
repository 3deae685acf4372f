// One consumer group's membership and committed offsets, as its coordinator holds them. Worker
// thread only: the owner of the group's __consumer_offsets partition (group-coordinator.ts drives
// the state changes; this file is the data and its small invariants).
//
// States, as in Kafka's GroupMetadata:
//   Empty               no members (maybe committed offsets)
//   PreparingRebalance  waiting for the members to (re)join; answers to JoinGroup are held
//   CompletingRebalance generation chosen, waiting for the leader's assignments in SyncGroup
//   Stable              every member has its assignment; heartbeats keep it so
//   Dead                being deleted; nothing is accepted

import type { JoinGroupResponse, Subscription, SyncGroupResponse, TopicPartitions } from '../../protocol/index.js';
import type { CommittedOffset, GroupRecord, MemberRecord } from './group-records.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

export class Member {
  memberId: string;
  readonly groupInstanceId: string | undefined;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: string[];
  subscription: Subscription;
  /** The partitions of the last completed sync (kept through a rebalance: cooperative members keep them). */
  assignment: TopicPartitions[] = [];
  /** The same as keys "topic\0partition", for commit checks. */
  assigned = new Set<string>();
  /** A JoinGroup waiting for the rebalance to complete. */
  joinWaiter: ((response: JoinGroupResponse) => void) | null = null;
  /** A SyncGroup waiting for the leader's assignments. */
  syncWaiter: ((response: SyncGroupResponse) => void) | null = null;
  /** Cancels the session timer (evicts the member when it fires). */
  cancelSession: (() => void) | null = null;

  constructor(record: Omit<MemberRecord, 'assignment'>) {
    this.memberId = record.memberId;
    this.groupInstanceId = record.groupInstanceId;
    this.clientId = record.clientId;
    this.clientHost = record.clientHost;
    this.sessionTimeoutMs = record.sessionTimeoutMs;
    this.rebalanceTimeoutMs = record.rebalanceTimeoutMs;
    this.protocols = record.protocols;
    this.subscription = record.subscription;
  }

  /**
   * Partitions the previous sync gave this member and the last one took away: a cooperative member
   * gives them up only after this generation's SyncGroup, and commits its progress on them then
   * (KIP-429), so such a commit is accepted until another member is assigned the partition.
   */
  revoked = new Set<string>();

  setAssignment(assignment: TopicPartitions[]): void {
    const previous = this.assigned;
    this.assignment = assignment;
    this.assigned = new Set(assignment.flatMap(({ topic, partitions }) => partitions.map((p) => partitionKey(topic, p))));
    this.revoked = new Set([...previous].filter((k) => !this.assigned.has(k)));
  }

  /** Whether a rejoin changes nothing the assignor looks at. */
  sameAs(protocols: readonly string[], subscription: Subscription): boolean {
    return JSON.stringify(protocols) === JSON.stringify(this.protocols) && JSON.stringify(subscription.topics) === JSON.stringify(this.subscription.topics);
  }

  toRecord(): MemberRecord {
    const { memberId, groupInstanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs, protocols, subscription, assignment } = this;
    return { memberId, ...(groupInstanceId === undefined ? {} : { groupInstanceId }), clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs, protocols, subscription, assignment };
  }
}

export class Group {
  readonly groupId: string;
  /** The __consumer_offsets partition that holds this group. */
  readonly partition: number;
  state: GroupState = 'Empty';
  protocolType = '';
  protocolName = '';
  generationId = 0;
  leader = '';
  /** In join order: the first is leader when the old leader is gone. */
  readonly members = new Map<string, Member>();
  /** Static members: groupInstanceId -> current memberId. */
  readonly instances = new Map<string, string>();
  /** Ids handed out with MEMBER_ID_REQUIRED, until they join (or their session timeout passes). */
  readonly pending = new Map<string, () => void>();
  readonly offsets = new Map<string, CommittedOffset & { topic: string; partition: number }>();
  /** Cancels the timer that ends the current join phase. */
  cancelRebalance: (() => void) | null = null;
  /** When the join phase must end at the latest (the initial delay may not stretch it beyond). */
  rebalanceDeadline = 0;
  /** In the initial delay of a new group's first rebalance: joins do not end the phase early. */
  initialDelay = false;

  constructor(groupId: string, partition: number) {
    this.groupId = groupId;
    this.partition = partition;
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  addMember(member: Member): void {
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== undefined) this.instances.set(member.groupInstanceId, member.memberId);
  }

  removeMember(member: Member): void {
    member.cancelSession?.();
    member.cancelSession = null;
    this.members.delete(member.memberId);
    if (member.groupInstanceId !== undefined && this.instances.get(member.groupInstanceId) === member.memberId) this.instances.delete(member.groupInstanceId);
    if (this.leader === member.memberId) this.leader = '';
  }

  /** The protocols every member supports, in the order of the first member's preference. */
  commonProtocols(): string[] {
    const members = [...this.members.values()];
    if (members.length === 0) return [];
    return members[0].protocols.filter((p) => members.every((m) => m.protocols.includes(p)));
  }

  /** Whether a member with these protocols could join: it shares at least one with everyone. */
  supports(protocols: readonly string[]): boolean {
    if (this.members.size === 0) return true;
    const common = this.commonProtocols();
    return protocols.some((p) => common.includes(p));
  }

  /** The generation's protocol: each member votes for its first choice among the common ones. */
  selectProtocol(): string {
    const common = this.commonProtocols();
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.protocols.find((p) => common.includes(p))!;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = common[0];
    for (const p of common) if ((votes.get(p) ?? 0) > (votes.get(best) ?? 0)) best = p;
    return best;
  }

  toRecord(): GroupRecord {
    return {
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      generationId: this.generationId,
      leader: this.leader,
      members: [...this.members.values()].map((m) => m.toRecord()),
    };
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
