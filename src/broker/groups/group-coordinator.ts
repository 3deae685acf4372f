// The group coordinator: membership, rebalances and committed offsets of the groups whose
// __consumer_offsets partitions this worker owns. Worker thread only (the owner of those
// partitions); no I/O of its own: the clock and the log are injected, so tests drive it with a
// manual clock and an in-memory log.
//
// The protocol is Kafka's classic one (KIP-62, KIP-345, KIP-394, KIP-429 on the client side):
//   JoinGroup  -> held until every member has rejoined or the rebalance timeout passed (the
//                 stragglers are dropped); then a new generation, and the leader gets everyone's
//                 subscription. An Empty group waits initialRebalanceDelayMs first (stretched by
//                 each new joiner, never past the rebalance timeout), so members that start
//                 together land in one generation instead of one rebalance each.
//   SyncGroup  -> the leader's assignments are checked, written to the log, then handed out.
//   Heartbeat  -> keeps the session; REBALANCE_IN_PROGRESS tells a member to rejoin.
//   A member silent for its session timeout is evicted, and the group rebalances without it.
// Static members (groupInstanceId) that rejoin a stable group unchanged get their old place and
// assignment back with no rebalance; the old member id is fenced (FENCED_INSTANCE_ID).
//
// Durability: an offset commit is answered after its record is appended (and synced, with
// flush.mode=sync); group state is written when a generation becomes Stable and when the group
// empties. On load, the partition's records are replayed; members of a loaded Stable group get a
// fresh session timeout to heartbeat in (they keep their assignments if they do).

import { randomUUID } from 'node:crypto';
import { Errors, type ErrorSpec } from '../../errors.js';
import type {
  DeletedGroup,
  DescribedGroup,
  FetchedOffset,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListedGroup,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  TopicPartitions,
} from '../../protocol/index.js';
import { coordinatorPartition } from './coordinator-partition.js';
import { Group, Member, partitionKey, type GroupState } from './group.js';
import { groupRecord, offsetRecord, type GroupLogEntry, type KeyedRecord } from './group-records.js';

export interface CoordinatorClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

export const systemClock: CoordinatorClock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface CoordinatorSettings {
  /** Partitions of __consumer_offsets. */
  offsetsPartitions: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
}

export interface CoordinatorLog {
  /** Appends records to a __consumer_offsets partition; resolves once they are as durable as its flush.mode makes them. */
  append(partition: number, records: KeyedRecord[]): Promise<void>;
}

type Failure = { errorCode: number; message: string };

function fail(spec: ErrorSpec, message: string = spec.message): Failure {
  return { errorCode: spec.code, message };
}

const joinFailure = (f: Failure, memberId = ''): JoinGroupResponse => ({ ...f, generationId: -1, protocolName: '', leader: '', memberId, members: [] });
const syncFailure = (f: Failure): SyncGroupResponse => ({ ...f, protocolName: '', assignment: [] });

export class GroupCoordinator {
  private readonly clock: CoordinatorClock;
  private readonly log: CoordinatorLog;
  private readonly settings: CoordinatorSettings;
  private readonly hosted = new Set<number>();
  private readonly groups = new Map<string, Group>();

  constructor(settings: CoordinatorSettings, log: CoordinatorLog, clock: CoordinatorClock = systemClock) {
    this.settings = settings;
    this.log = log;
    this.clock = clock;
  }

  // ---- partitions ---------------------------------------------------------------------------------

  /** Takes over a partition: replays its records (in log order), then serves its groups. */
  load(partition: number, entries: Iterable<GroupLogEntry>): void {
    for (const entry of entries) {
      const group = this.groupFor(entry.groupId, partition);
      if (entry.kind === 'offset') {
        const k = partitionKey(entry.topic, entry.partition);
        if (entry.value === null) group.offsets.delete(k);
        else group.offsets.set(k, { topic: entry.topic, partition: entry.partition, ...entry.value });
      } else if (entry.value === null) {
        this.groups.delete(entry.groupId);
      } else {
        const record = entry.value;
        for (const m of group.members.values()) group.removeMember(m);
        group.protocolType = record.protocolType;
        group.protocolName = record.protocolName;
        group.generationId = record.generationId;
        group.leader = record.leader;
        for (const r of record.members) {
          const member = new Member(r);
          member.setAssignment(r.assignment);
          group.addMember(member);
        }
        group.state = group.isEmpty ? 'Empty' : 'Stable';
      }
    }
    for (const group of this.groups.values()) {
      if (group.partition !== partition) continue;
      if (group.isEmpty && group.offsets.size === 0 && group.generationId === 0) this.groups.delete(group.groupId);
      for (const member of group.members.values()) this.startSession(group, member);
    }
    this.hosted.add(partition);
  }

  /** Gives up a partition (closed or moved): its groups are forgotten here, their waiters told to find the coordinator again. */
  unload(partition: number): void {
    this.hosted.delete(partition);
    for (const group of [...this.groups.values()]) {
      if (group.partition !== partition) continue;
      group.cancelRebalance?.();
      for (const cancel of group.pending.values()) cancel();
      for (const member of group.members.values()) {
        member.cancelSession?.();
        member.joinWaiter?.(joinFailure(fail(Errors.NOT_COORDINATOR)));
        member.syncWaiter?.(syncFailure(fail(Errors.NOT_COORDINATOR)));
      }
      this.groups.delete(group.groupId);
    }
  }

  partitionOf(groupId: string): number {
    return coordinatorPartition(groupId, this.settings.offsetsPartitions);
  }

  private groupFor(groupId: string, partition: number): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) this.groups.set(groupId, (group = new Group(groupId, partition)));
    return group;
  }

  /** The group if this worker coordinates it (creating it when asked), or the failure to answer. */
  private lookup(groupId: string, create: boolean): Group | Failure | undefined {
    const partition = this.partitionOf(groupId);
    if (!this.hosted.has(partition)) return fail(Errors.NOT_COORDINATOR, `this worker does not coordinate group '${groupId}' (partition ${partition} of __consumer_offsets)`);
    const group = this.groups.get(groupId);
    if (group !== undefined || !create) return group;
    return this.groupFor(groupId, partition);
  }

  // ---- JoinGroup ---------------------------------------------------------------------------------

  join(request: JoinGroupRequest, clientHost: string): Promise<JoinGroupResponse> {
    const { sessionTimeoutMs, groupId } = request;
    if (sessionTimeoutMs < this.settings.minSessionTimeoutMs || sessionTimeoutMs > this.settings.maxSessionTimeoutMs) {
      return Promise.resolve(joinFailure(fail(Errors.INVALID_SESSION_TIMEOUT, `sessionTimeoutMs must be between ${this.settings.minSessionTimeoutMs} and ${this.settings.maxSessionTimeoutMs} (group.min/max.session.timeout.ms), got ${sessionTimeoutMs}`), request.memberId));
    }
    const group = this.lookup(groupId, true) as Group | Failure;
    if (!(group instanceof Group)) return Promise.resolve(joinFailure(group, request.memberId));
    if (group.state === 'Dead') return Promise.resolve(joinFailure(fail(Errors.COORDINATOR_NOT_AVAILABLE, `group '${groupId}' is being deleted`), request.memberId));
    const protocols = request.protocols.map((p) => p.name);
    if (!group.isEmpty && (group.protocolType !== request.protocolType || !group.supports(protocols))) {
      return Promise.resolve(
        joinFailure(fail(Errors.INCONSISTENT_GROUP_PROTOCOL, `group '${groupId}' uses protocol type '${group.protocolType}' with assignors [${group.commonProtocols().join(', ')}]; this member offers '${request.protocolType}' with [${protocols.join(', ')}]`), request.memberId),
      );
    }
    const instanceId = request.groupInstanceId;
    if (request.memberId === '') {
      const memberId = `${request.clientId || 'member'}-${randomUUID()}`;
      if (instanceId === undefined) {
        // KIP-394: the id first, then the real join; a member that never comes back leaves nothing.
        const cancel = this.clock.schedule(sessionTimeoutMs, () => group.pending.delete(memberId));
        group.pending.set(memberId, cancel);
        return Promise.resolve(joinFailure(fail(Errors.MEMBER_ID_REQUIRED, 'join again with the memberId in this answer'), memberId));
      }
      const previousId = group.instances.get(instanceId);
      const previous = previousId === undefined ? undefined : group.members.get(previousId);
      if (previous !== undefined) return this.replaceStatic(group, previous, memberId, request, protocols, clientHost);
      return this.addAndJoin(group, memberId, request, protocols, clientHost);
    }
    const cancelPending = group.pending.get(request.memberId);
    if (cancelPending !== undefined) {
      cancelPending();
      group.pending.delete(request.memberId);
      return this.addAndJoin(group, request.memberId, request, protocols, clientHost);
    }
    const member = group.members.get(request.memberId);
    if (member === undefined) return Promise.resolve(joinFailure(fail(Errors.UNKNOWN_MEMBER_ID, `member '${request.memberId}' is not in group '${groupId}'`), request.memberId));
    const fenced = this.fenced(group, member, instanceId);
    if (fenced !== undefined) return Promise.resolve(joinFailure(fenced, request.memberId));
    return this.rejoin(group, member, request, protocols);
  }

  private addAndJoin(group: Group, memberId: string, request: JoinGroupRequest, protocols: string[], clientHost: string): Promise<JoinGroupResponse> {
    if (group.isEmpty) group.protocolType = request.protocolType;
    const member = new Member({
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId ?? '',
      clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocols,
      subscription: request.subscription,
    });
    group.addMember(member);
    const answer = this.waitForJoin(member);
    this.prepareRebalance(group, group.state === 'Empty');
    this.tryCompleteJoin(group);
    return answer;
  }

  private rejoin(group: Group, member: Member, request: JoinGroupRequest, protocols: string[]): Promise<JoinGroupResponse> {
    const unchanged = member.sameAs(protocols, request.subscription);
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.protocols = protocols;
    member.subscription = request.subscription;
    switch (group.state) {
      case 'PreparingRebalance': {
        const answer = this.waitForJoin(member);
        this.tryCompleteJoin(group);
        return answer;
      }
      case 'CompletingRebalance':
      case 'Stable':
        // A follower that changed nothing just hears the current generation again; the leader
        // rejoining (metadata changed: new partitions, a new topic for its pattern) or any change
        // of subscription starts a rebalance.
        if (unchanged && member.memberId !== group.leader) {
          this.startSession(group, member);
          return Promise.resolve(this.joinAnswer(group, member));
        }
        {
          const answer = this.waitForJoin(member);
          this.prepareRebalance(group, false);
          this.tryCompleteJoin(group);
          return answer;
        }
      default:
        return Promise.resolve(joinFailure(fail(Errors.UNKNOWN_MEMBER_ID, `member '${member.memberId}' is not in group '${group.groupId}'`), member.memberId));
    }
  }

  /** A static member restarted: it takes the old member's place; the old id is fenced. */
  private replaceStatic(group: Group, previous: Member, memberId: string, request: JoinGroupRequest, protocols: string[], clientHost: string): Promise<JoinGroupResponse> {
    const unchanged = previous.sameAs(protocols, request.subscription);
    previous.joinWaiter?.(joinFailure(fail(Errors.FENCED_INSTANCE_ID, `groupInstanceId '${request.groupInstanceId}' joined again as another member`), previous.memberId));
    previous.joinWaiter = null;
    previous.syncWaiter?.(syncFailure(fail(Errors.FENCED_INSTANCE_ID)));
    previous.syncWaiter = null;
    const wasLeader = group.leader === previous.memberId;
    group.members.delete(previous.memberId);
    previous.memberId = memberId;
    previous.clientHost = clientHost;
    previous.clientId = request.clientId ?? previous.clientId;
    group.addMember(previous);
    if (wasLeader) group.leader = memberId;
    if (group.state === 'Stable' && unchanged) {
      // Its old partitions, no rebalance: the others never notice the restart.
      this.startSession(group, previous);
      return this.log.append(group.partition, [groupRecord(group.groupId, group.toRecord())]).then(
        () => ({ ...this.joinAnswer(group, previous), members: [], skipAssignment: true }),
        (error) => joinFailure(fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the group: ${(error as Error).message}`), memberId),
      );
    }
    previous.protocols = protocols;
    previous.subscription = request.subscription;
    previous.sessionTimeoutMs = request.sessionTimeoutMs;
    previous.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    const answer = this.waitForJoin(previous);
    this.prepareRebalance(group, false);
    this.tryCompleteJoin(group);
    return answer;
  }

  private waitForJoin(member: Member): Promise<JoinGroupResponse> {
    // A join already waiting (the member retried) is answered now: only the newest counts.
    member.joinWaiter?.(joinFailure(fail(Errors.REBALANCE_IN_PROGRESS, 'superseded by a newer JoinGroup of the same member'), member.memberId));
    // While its join is held the member cannot heartbeat: the rebalance timeout bounds the wait instead.
    member.cancelSession?.();
    member.cancelSession = null;
    return new Promise((resolve) => (member.joinWaiter = resolve));
  }

  private joinAnswer(group: Group, member: Member): JoinGroupResponse {
    const isLeader = member.memberId === group.leader;
    return {
      errorCode: 0,
      generationId: group.generationId,
      protocolName: group.protocolName,
      leader: group.leader,
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.memberId, ...(m.groupInstanceId === undefined ? {} : { groupInstanceId: m.groupInstanceId }), subscription: m.subscription }))
        : [],
    };
  }

  /** Enters (or stays in) PreparingRebalance and arms the timer that ends the join phase. */
  private prepareRebalance(group: Group, initial: boolean): void {
    const now = this.clock.now();
    if (group.state === 'CompletingRebalance') {
      for (const member of group.members.values()) {
        member.syncWaiter?.(syncFailure(fail(Errors.REBALANCE_IN_PROGRESS, 'the group is rebalancing again: join again')));
        member.syncWaiter = null;
      }
    }
    const rebalanceTimeout = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    if (group.state !== 'PreparingRebalance') {
      group.state = 'PreparingRebalance';
      group.rebalanceDeadline = now + rebalanceTimeout;
      group.initialDelay = initial && this.settings.initialRebalanceDelayMs > 0;
      this.armRebalance(group, group.initialDelay ? Math.min(this.settings.initialRebalanceDelayMs, rebalanceTimeout) : rebalanceTimeout);
      return;
    }
    if (group.initialDelay) {
      // Each new member of a new group stretches the delay, within the rebalance timeout.
      this.armRebalance(group, Math.min(this.settings.initialRebalanceDelayMs, Math.max(0, group.rebalanceDeadline - now)));
    }
  }

  private armRebalance(group: Group, ms: number): void {
    group.cancelRebalance?.();
    group.cancelRebalance = this.clock.schedule(ms, () => {
      group.cancelRebalance = null;
      if (group.state !== 'PreparingRebalance') return;
      group.initialDelay = false;
      this.completeJoin(group);
    });
  }

  /** Completes the join phase early once every member has rejoined (not during the initial delay). */
  private tryCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || group.initialDelay) return;
    for (const member of group.members.values()) if (member.joinWaiter === null) return;
    group.cancelRebalance?.();
    group.cancelRebalance = null;
    this.completeJoin(group);
  }

  /** Ends the join phase: drops who did not rejoin, starts the next generation, answers the joins. */
  private completeJoin(group: Group): void {
    for (const member of [...group.members.values()]) if (member.joinWaiter === null) group.removeMember(member);
    group.generationId++;
    if (group.isEmpty) {
      this.becomeEmpty(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    if (!group.members.has(group.leader)) group.leader = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    for (const member of group.members.values()) {
      const answer = member.joinWaiter!;
      member.joinWaiter = null;
      this.startSession(group, member);
      answer(this.joinAnswer(group, member));
    }
  }

  private becomeEmpty(group: Group): void {
    group.cancelRebalance?.();
    group.cancelRebalance = null;
    group.state = 'Empty';
    group.leader = '';
    group.protocolName = '';
    this.log.append(group.partition, [groupRecord(group.groupId, group.toRecord())]).catch(() => {
      // The next state change writes the group again; committed offsets are written separately.
    });
  }

  // ---- sessions ----------------------------------------------------------------------------------

  private startSession(group: Group, member: Member): void {
    member.cancelSession?.();
    member.cancelSession = this.clock.schedule(member.sessionTimeoutMs, () => {
      member.cancelSession = null;
      if (group.members.get(member.memberId) !== member) return;
      this.removeAndRebalance(group, member);
    });
  }

  private removeAndRebalance(group: Group, member: Member): void {
    member.joinWaiter?.(joinFailure(fail(Errors.UNKNOWN_MEMBER_ID, 'the member left the group'), member.memberId));
    member.syncWaiter?.(syncFailure(fail(Errors.UNKNOWN_MEMBER_ID, 'the member left the group')));
    member.joinWaiter = null;
    member.syncWaiter = null;
    group.removeMember(member);
    if (group.isEmpty && group.state !== 'PreparingRebalance') {
      group.generationId++;
      this.becomeEmpty(group);
      return;
    }
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, false);
    this.tryCompleteJoin(group);
  }

  /** FENCED_INSTANCE_ID when the request's groupInstanceId now belongs to another member id. */
  private fenced(group: Group, member: Member | undefined, instanceId: string | undefined): Failure | undefined {
    if (instanceId === undefined) return undefined;
    const current = group.instances.get(instanceId);
    if (current !== undefined && (member === undefined || current !== member.memberId)) {
      return fail(Errors.FENCED_INSTANCE_ID, `groupInstanceId '${instanceId}' belongs to member '${current}' now`);
    }
    return undefined;
  }

  /** The member a request names, checked: known, not fenced, of the current generation. */
  private checkMember(groupId: string, memberId: string, instanceId: string | undefined, generationId: number): { group: Group; member: Member } | Failure {
    const group = this.lookup(groupId, false);
    if (group === undefined) return fail(Errors.UNKNOWN_MEMBER_ID, `group '${groupId}' has no members`);
    if (!(group instanceof Group)) return group;
    const member = group.members.get(memberId);
    const fenced = this.fenced(group, member, instanceId);
    if (fenced !== undefined) return fenced;
    if (member === undefined) return fail(Errors.UNKNOWN_MEMBER_ID, `member '${memberId}' is not in group '${groupId}'`);
    if (generationId !== group.generationId) return fail(Errors.ILLEGAL_GENERATION, `generation ${generationId} is not the group's current generation ${group.generationId}`);
    return { group, member };
  }

  // ---- SyncGroup ---------------------------------------------------------------------------------

  async sync(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    const checked = this.checkMember(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
    if (!('group' in checked)) return syncFailure(checked);
    const { group, member } = checked;
    const isLeader = member.memberId === group.leader;
    if (!isLeader && request.assignments !== undefined && request.assignments.length > 0) {
      return syncFailure(fail(Errors.NOT_GROUP_LEADER, `member '${member.memberId}' is not the leader of group '${group.groupId}' (the leader is '${group.leader}')`));
    }
    switch (group.state) {
      case 'PreparingRebalance':
        return syncFailure(fail(Errors.REBALANCE_IN_PROGRESS, 'the group is rebalancing: join again'));
      case 'Stable':
        this.startSession(group, member);
        return { errorCode: 0, protocolName: group.protocolName, assignment: member.assignment };
      case 'CompletingRebalance':
        break;
      default:
        return syncFailure(fail(Errors.UNKNOWN_MEMBER_ID));
    }
    const answer = new Promise<SyncGroupResponse>((resolve) => {
      member.syncWaiter?.(syncFailure(fail(Errors.REBALANCE_IN_PROGRESS, 'superseded by a newer SyncGroup of the same member')));
      member.syncWaiter = resolve;
    });
    if (!isLeader) return answer;
    const problem = this.checkAssignments(group, request.assignments ?? []);
    if (problem !== undefined) {
      member.syncWaiter = null;
      return syncFailure(problem);
    }
    const byMember = new Map((request.assignments ?? []).map((a) => [a.memberId, a.partitions]));
    const generation = group.generationId;
    for (const m of group.members.values()) m.setAssignment(byMember.get(m.memberId) ?? []);
    try {
      await this.log.append(group.partition, [groupRecord(group.groupId, group.toRecord())]);
    } catch (error) {
      if (group.generationId === generation && group.state === 'CompletingRebalance') {
        const failure = syncFailure(fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the group's assignment: ${(error as Error).message}`));
        for (const m of group.members.values()) {
          m.syncWaiter?.(failure);
          m.syncWaiter = null;
        }
        this.prepareRebalance(group, false);
      }
      return answer;
    }
    if (group.generationId !== generation || group.state !== 'CompletingRebalance') return answer; // answered by the new rebalance
    group.state = 'Stable';
    for (const m of group.members.values()) {
      this.startSession(group, m);
      m.syncWaiter?.({ errorCode: 0, protocolName: group.protocolName, assignment: m.assignment });
      m.syncWaiter = null;
    }
    return answer;
  }

  /** INVALID_ASSIGNMENT for a member outside the generation or a partition given twice. */
  private checkAssignments(group: Group, assignments: readonly { memberId: string; partitions: TopicPartitions[] }[]): Failure | undefined {
    const given = new Map<string, string>();
    for (const a of assignments) {
      if (!group.members.has(a.memberId)) return fail(Errors.INVALID_ASSIGNMENT, `the assignment names '${a.memberId}', which is not a member of generation ${group.generationId}`);
      for (const { topic, partitions } of a.partitions) {
        for (const p of partitions) {
          const k = partitionKey(topic, p);
          const other = given.get(k);
          if (other !== undefined) return fail(Errors.INVALID_ASSIGNMENT, `${topic}-${p} is assigned to both '${other}' and '${a.memberId}'`);
          given.set(k, a.memberId);
        }
      }
    }
    return undefined;
  }

  // ---- Heartbeat and LeaveGroup ------------------------------------------------------------------

  heartbeat(request: HeartbeatRequest): HeartbeatResponse {
    const checked = this.checkMember(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
    if (!('group' in checked)) return checked;
    const { group, member } = checked;
    this.startSession(group, member);
    if (group.state === 'PreparingRebalance') return fail(Errors.REBALANCE_IN_PROGRESS, 'the group is rebalancing: join again');
    return { errorCode: 0 };
  }

  leave(request: LeaveGroupRequest): LeaveGroupResponse {
    const group = this.lookup(request.groupId, false);
    if (group === undefined) return { ...fail(Errors.GROUP_ID_NOT_FOUND, `group '${request.groupId}' does not exist`), members: [] };
    if (!(group instanceof Group)) return { ...group, members: [] };
    const members = request.members.map(({ memberId, groupInstanceId }) => {
      const echo = { memberId, ...(groupInstanceId === undefined ? {} : { groupInstanceId }) };
      const byInstance = groupInstanceId === undefined ? undefined : group.instances.get(groupInstanceId);
      if (groupInstanceId !== undefined && byInstance !== undefined && memberId !== '' && byInstance !== memberId) return { ...echo, errorCode: Errors.FENCED_INSTANCE_ID.code };
      const member = group.members.get(byInstance ?? memberId);
      if (member === undefined) return { ...echo, errorCode: Errors.UNKNOWN_MEMBER_ID.code };
      this.removeAndRebalance(group, member);
      return { ...echo, errorCode: 0 };
    });
    return { errorCode: 0, members };
  }

  // ---- offsets -----------------------------------------------------------------------------------

  async commit(request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const all = (f: Failure): OffsetCommitResponse => ({ ...f, partitions: request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: f.errorCode })) });
    let group: Group;
    let member: Member | undefined;
    if (request.generationId < 0 && request.memberId === '') {
      const found = this.lookup(request.groupId, true) as Group | Failure;
      if (!(found instanceof Group)) return all(found);
      if (!found.isEmpty) return all(fail(Errors.UNKNOWN_MEMBER_ID, `group '${request.groupId}' has members: only they may commit (stop them first)`));
      group = found;
    } else {
      const checked = this.checkMember(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
      if (!('group' in checked)) return all(checked);
      ({ group, member } = checked);
      if (group.state === 'CompletingRebalance') return all(fail(Errors.REBALANCE_IN_PROGRESS, 'the group is completing a rebalance: commit after SyncGroup'));
      this.startSession(group, member);
    }
    if (group.state === 'Dead') return all(fail(Errors.COORDINATOR_NOT_AVAILABLE, `group '${request.groupId}' is being deleted`));
    const now = this.clock.now();
    const ownedByAnyone = (k: string) => [...group.members.values()].some((m) => m.assigned.has(k));
    const accepted = request.partitions.filter((p) => {
      if (member === undefined) return true;
      const k = partitionKey(p.topic, p.partition);
      // A cooperative member's revoked partition: its final commit, before the next owner has it.
      return member.assigned.has(k) || (member.revoked.has(k) && !ownedByAnyone(k));
    });
    const records = accepted.map((p) => offsetRecord(group.groupId, p.topic, p.partition, { offset: p.offset, metadata: p.metadata ?? '', commitTimestamp: now }));
    if (records.length > 0) {
      try {
        await this.log.append(group.partition, records);
      } catch (error) {
        return all(fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the commit: ${(error as Error).message}`));
      }
      for (const p of accepted) group.offsets.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition, offset: p.offset, metadata: p.metadata ?? '', commitTimestamp: now });
    }
    const ok = new Set(accepted);
    return {
      errorCode: 0,
      partitions: request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: ok.has(p) ? 0 : Errors.PARTITION_NOT_ASSIGNED.code })),
    };
  }

  fetchOffsets(request: OffsetFetchRequest): OffsetFetchResponse {
    const group = this.lookup(request.groupId, false);
    if (group !== undefined && !(group instanceof Group)) return { ...group, partitions: [] };
    const none = (topic: string, partition: number): FetchedOffset => ({ topic, partition, offset: -1, metadata: '', commitTimestamp: -1, errorCode: 0 });
    if (request.partitions === undefined) {
      const partitions = group === undefined ? [] : [...group.offsets.values()].map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata, commitTimestamp: o.commitTimestamp, errorCode: 0 }));
      partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      return { errorCode: 0, partitions };
    }
    return {
      errorCode: 0,
      partitions: request.partitions.map(({ topic, partition }) => {
        const o = group?.offsets.get(partitionKey(topic, partition));
        return o === undefined ? none(topic, partition) : { topic, partition, offset: o.offset, metadata: o.metadata, commitTimestamp: o.commitTimestamp, errorCode: 0 };
      }),
    };
  }

  // ---- administration ----------------------------------------------------------------------------

  listGroups(states?: readonly string[]): ListedGroup[] {
    const out: ListedGroup[] = [];
    for (const group of this.groups.values()) {
      if (!this.hosted.has(group.partition)) continue;
      if (states !== undefined && states.length > 0 && !states.includes(group.state)) continue;
      out.push({ groupId: group.groupId, protocolType: group.protocolType, state: group.state });
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  describe(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) => {
      const blank = { groupId, state: 'Dead' as GroupState, protocolType: '', protocolName: '', generationId: -1, leader: '', members: [] };
      const group = this.lookup(groupId, false);
      if (group === undefined) return { ...blank, ...fail(Errors.GROUP_ID_NOT_FOUND, `group '${groupId}' does not exist`) };
      if (!(group instanceof Group)) return { ...blank, ...group };
      return {
        groupId,
        errorCode: 0,
        state: group.state,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        generationId: group.generationId,
        leader: group.leader,
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          ...(m.groupInstanceId === undefined ? {} : { groupInstanceId: m.groupInstanceId }),
          clientId: m.clientId,
          clientHost: m.clientHost,
          sessionTimeoutMs: m.sessionTimeoutMs,
          subscription: m.subscription,
          assignment: m.assignment,
        })),
      };
    });
  }

  async deleteGroups(groupIds: readonly string[]): Promise<DeletedGroup[]> {
    const results: DeletedGroup[] = [];
    for (const groupId of groupIds) {
      const group = this.lookup(groupId, false);
      if (group === undefined) {
        results.push({ groupId, ...fail(Errors.GROUP_ID_NOT_FOUND, `group '${groupId}' does not exist`) });
        continue;
      }
      if (!(group instanceof Group)) {
        results.push({ groupId, ...group });
        continue;
      }
      if (!group.isEmpty || group.state === 'Dead') {
        results.push({ groupId, ...fail(Errors.NON_EMPTY_GROUP, `group '${groupId}' has ${group.members.size} member(s); stop them first`) });
        continue;
      }
      group.state = 'Dead';
      const tombstones = [...group.offsets.values()].map((o) => offsetRecord(groupId, o.topic, o.partition, null));
      tombstones.push(groupRecord(groupId, null));
      try {
        await this.log.append(group.partition, tombstones);
        this.groups.delete(groupId);
        results.push({ groupId, errorCode: 0 });
      } catch (error) {
        group.state = 'Empty';
        results.push({ groupId, ...fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the deletion: ${(error as Error).message}`) });
      }
    }
    return results;
  }
}
