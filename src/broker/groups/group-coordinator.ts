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

import { Errors } from '../../errors.js';
import type {
  DeletedGroup,
  DescribedGroup,
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
} from '../../protocol/index.js';
import { systemClock, type CoordinatorClock } from './coordinator-clock.js';
import { fail, joinFailure, syncFailure, type CoordinatorContext, type CoordinatorLog, type CoordinatorSettings, type Failure } from './coordinator-context.js';
import { coordinatorPartition } from './coordinator-partition.js';
import { Group, Member, partitionKey } from './group.js';
import { deleteGroups, describeGroups, listGroups } from './group-admin.js';
import { commitOffsets, fetchOffsets } from './group-offsets.js';
import { type GroupLogEntry } from './group-records.js';
import { joinGroup } from './join-group.js';
import { Rebalancer } from './rebalancer.js';
import { syncGroup } from './sync-group.js';

export { systemClock, type CoordinatorClock } from './coordinator-clock.js';
export type { CoordinatorLog, CoordinatorSettings } from './coordinator-context.js';

/**
 * One worker's coordinator: the groups of its __consumer_offsets partitions. Each request kind is
 * handled in its own file (join-group.ts, sync-group.ts, group-offsets.ts, group-admin.ts) over
 * the shared context this class is; the rebalance state machine is rebalancer.ts.
 */
export class GroupCoordinator implements CoordinatorContext {
  readonly clock: CoordinatorClock;
  readonly log: CoordinatorLog;
  readonly settings: CoordinatorSettings;
  readonly rebalancer: Rebalancer;
  readonly hosted = new Set<number>();
  readonly groups = new Map<string, Group>();

  constructor(settings: CoordinatorSettings, log: CoordinatorLog, clock: CoordinatorClock = systemClock) {
    this.settings = settings;
    this.log = log;
    this.clock = clock;
    this.rebalancer = new Rebalancer(settings, clock, log);
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
      for (const member of group.members.values()) this.rebalancer.startSession(group, member);
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
  lookup(groupId: string, create: boolean): Group | Failure | undefined {
    const partition = this.partitionOf(groupId);
    if (!this.hosted.has(partition)) return fail(Errors.NOT_COORDINATOR, `this worker does not coordinate group '${groupId}' (partition ${partition} of __consumer_offsets)`);
    const group = this.groups.get(groupId);
    if (group !== undefined || !create) return group;
    return this.groupFor(groupId, partition);
  }

  // ---- requests ----------------------------------------------------------------------------------

  join(request: JoinGroupRequest, clientHost: string): Promise<JoinGroupResponse> {
    return joinGroup(this, request, clientHost);
  }

  sync(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return syncGroup(this, request);
  }

  // ---- Heartbeat and LeaveGroup ------------------------------------------------------------------

  heartbeat(request: HeartbeatRequest): HeartbeatResponse {
    const checked = this.checkMember(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
    if (!('group' in checked)) return checked;
    const { group, member } = checked;
    this.rebalancer.startSession(group, member);
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
      this.rebalancer.removeAndRebalance(group, member);
      return { ...echo, errorCode: 0 };
    });
    return { errorCode: 0, members };
  }

  commit(request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    return commitOffsets(this, request);
  }

  fetchOffsets(request: OffsetFetchRequest): OffsetFetchResponse {
    return fetchOffsets(this, request);
  }

  listGroups(states?: readonly string[]): ListedGroup[] {
    return listGroups(this, states);
  }

  describe(groupIds: readonly string[]): DescribedGroup[] {
    return describeGroups(this, groupIds);
  }

  deleteGroups(groupIds: readonly string[]): Promise<DeletedGroup[]> {
    return deleteGroups(this, groupIds);
  }

  // ---- member checks -----------------------------------------------------------------------------

  /** FENCED_INSTANCE_ID when the request's groupInstanceId now belongs to another member id. */
  fenced(group: Group, member: Member | undefined, instanceId: string | undefined): Failure | undefined {
    if (instanceId === undefined) return undefined;
    const current = group.instances.get(instanceId);
    if (current !== undefined && (member === undefined || current !== member.memberId)) {
      return fail(Errors.FENCED_INSTANCE_ID, `groupInstanceId '${instanceId}' belongs to member '${current}' now`);
    }
    return undefined;
  }

  /** The member a request names, checked: known, not fenced, of the current generation. */
  checkMember(groupId: string, memberId: string, instanceId: string | undefined, generationId: number): { group: Group; member: Member } | Failure {
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
}
