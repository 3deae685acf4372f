// ListGroups, DescribeGroups and DeleteGroups for the groups this worker coordinates. Deleting is
// refused for a group with members (NON_EMPTY_GROUP) and writes tombstones for its offsets and its
// group record, which compaction of __consumer_offsets later removes. Worker thread only.

import { Errors } from '../../errors.js';
import type { DeletedGroup, DescribedGroup, ListedGroup } from '../../protocol/index.js';
import { fail, type CoordinatorContext } from './coordinator-context.js';
import { Group, type GroupState } from './group.js';
import { groupRecord, offsetRecord } from './group-records.js';

export function listGroups(ctx: CoordinatorContext, states?: readonly string[]): ListedGroup[] {
  const out: ListedGroup[] = [];
  for (const group of ctx.groups.values()) {
    if (!ctx.hosted.has(group.partition)) continue;
    if (states !== undefined && states.length > 0 && !states.includes(group.state)) continue;
    out.push({ groupId: group.groupId, protocolType: group.protocolType, state: group.state });
  }
  return out.sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}

export function describeGroups(ctx: CoordinatorContext, groupIds: readonly string[]): DescribedGroup[] {
  return groupIds.map((groupId) => {
    const blank = { groupId, state: 'Dead' as GroupState, protocolType: '', protocolName: '', generationId: -1, leader: '', members: [] };
    const group = ctx.lookup(groupId, false);
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

export async function deleteGroups(ctx: CoordinatorContext, groupIds: readonly string[]): Promise<DeletedGroup[]> {
  const results: DeletedGroup[] = [];
  for (const groupId of groupIds) {
    const group = ctx.lookup(groupId, false);
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
      await ctx.log.append(group.partition, tombstones);
      ctx.groups.delete(groupId);
      results.push({ groupId, errorCode: 0 });
    } catch (error) {
      group.state = 'Empty';
      results.push({ groupId, ...fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the deletion: ${(error as Error).message}`) });
    }
  }
  return results;
}
