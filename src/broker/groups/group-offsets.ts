// OffsetCommit and OffsetFetch: committed offsets are records of __consumer_offsets, answered once
// appended. Members commit only the partitions they own in the current generation; tools commit
// with generation -1 and no member id, accepted only while the group is Empty (NON_EMPTY_GROUP
// otherwise), as Kafka accepts them for kafka-consumer-groups --reset-offsets. Worker thread only.

import { Errors } from '../../errors.js';
import type { FetchedOffset, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse } from '../../protocol/index.js';
import { fail, type CoordinatorContext, type Failure } from './coordinator-context.js';
import { Group, type Member, partitionKey } from './group.js';
import { offsetRecord } from './group-records.js';

export async function commitOffsets(ctx: CoordinatorContext, request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
  const all = (f: Failure): OffsetCommitResponse => ({ ...f, partitions: request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: f.errorCode })) });
  let group: Group;
  let member: Member | undefined;
  if (request.generationId < 0 && request.memberId === '') {
    const found = ctx.lookup(request.groupId, true) as Group | Failure;
    if (!(found instanceof Group)) return all(found);
    if (!found.isEmpty) return all(fail(Errors.NON_EMPTY_GROUP, `group '${request.groupId}' has ${found.members.size} member(s): only they may commit (stop them first)`));
    group = found;
  } else {
    const checked = ctx.checkMember(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
    if (!('group' in checked)) return all(checked);
    ({ group, member } = checked);
    if (group.state === 'CompletingRebalance') return all(fail(Errors.REBALANCE_IN_PROGRESS, 'the group is completing a rebalance: commit after SyncGroup'));
    ctx.rebalancer.startSession(group, member);
  }
  if (group.state === 'Dead') return all(fail(Errors.COORDINATOR_NOT_AVAILABLE, `group '${request.groupId}' is being deleted`));
  const now = ctx.clock.now();
  const ownedByAnyone = (k: string) => [...group.members.values()].some((m) => m.assigned.has(k));
  const accepted = request.partitions.filter((p) => {
    if (member === undefined) return true;
    const k = partitionKey(p.topic, p.partition);
    // A cooperative member's revoked partition: its final commit, before the next owner has it (KIP-429).
    return member.assigned.has(k) || (member.revoked.has(k) && !ownedByAnyone(k));
  });
  const records = accepted.map((p) => offsetRecord(group.groupId, p.topic, p.partition, { offset: p.offset, metadata: p.metadata ?? '', commitTimestamp: now }));
  if (records.length > 0) {
    try {
      await ctx.log.append(group.partition, records);
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

export function fetchOffsets(ctx: CoordinatorContext, request: OffsetFetchRequest): OffsetFetchResponse {
  const group = ctx.lookup(request.groupId, false);
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
