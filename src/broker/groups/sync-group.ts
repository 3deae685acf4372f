// SyncGroup: the leader's assignments are checked (INVALID_ASSIGNMENT, NOT_GROUP_LEADER), written
// to the log, then handed to every member; the group becomes Stable. Worker thread only (the owner
// of the group's __consumer_offsets partition).

import { Errors } from '../../errors.js';
import type { SyncGroupRequest, SyncGroupResponse, TopicPartitions } from '../../protocol/index.js';
import { fail, syncFailure, type CoordinatorContext, type Failure } from './coordinator-context.js';
import { type Group, partitionKey } from './group.js';
import { groupRecord } from './group-records.js';

export async function syncGroup(ctx: CoordinatorContext, request: SyncGroupRequest): Promise<SyncGroupResponse> {
  const checked = ctx.checkMember(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
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
      ctx.rebalancer.startSession(group, member);
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
  const problem = checkAssignments(ctx, group, request.assignments ?? []);
  if (problem !== undefined) {
    member.syncWaiter = null;
    return syncFailure(problem);
  }
  const byMember = new Map((request.assignments ?? []).map((a) => [a.memberId, a.partitions]));
  const generation = group.generationId;
  for (const m of group.members.values()) m.setAssignment(byMember.get(m.memberId) ?? []);
  try {
    await ctx.log.append(group.partition, [groupRecord(group.groupId, group.toRecord())]);
  } catch (error) {
    if (group.generationId === generation && group.state === 'CompletingRebalance') {
      const failure = syncFailure(fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the group's assignment: ${(error as Error).message}`));
      for (const m of group.members.values()) {
        m.syncWaiter?.(failure);
        m.syncWaiter = null;
      }
      ctx.rebalancer.prepareRebalance(group, false);
    }
    return answer;
  }
  if (group.generationId !== generation || group.state !== 'CompletingRebalance') return answer; // answered by the new rebalance
  group.state = 'Stable';
  for (const m of group.members.values()) {
    ctx.rebalancer.startSession(group, m);
    m.syncWaiter?.({ errorCode: 0, protocolName: group.protocolName, assignment: m.assignment });
    m.syncWaiter = null;
  }
  return answer;
}

/** INVALID_ASSIGNMENT for a member outside the generation or a partition given twice. */
function checkAssignments(ctx: CoordinatorContext, group: Group, assignments: readonly { memberId: string; partitions: TopicPartitions[] }[]): Failure | undefined {
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
