// Consumer-group requests of a client connection, to the owner of each group's
// __consumer_offsets partition (its coordinator). Main thread only.

import { Errors } from '../errors.js';
import { ApiKeys, encodeResponse, type DecodedRequest, type RequestHeaders, type ResponseHeaders } from '../protocol/index.js';
import { type GroupApiKey, type GroupRequestMeta } from './groups/coordinator-host.js';
import { coordinatorPartition, OFFSETS_TOPIC } from './groups/coordinator-partition.js';
import { groupFailure } from './groups/group-responses.js';
import { fanOut } from './owner-fan-out.js';
import { OwnerKind, type GroupResultMeta } from './owner-messages.js';
import { type RequestScope } from './request-scope.js';

/**
 * Sends a group request to the coordinators of `groupIds` (every offsets partition's owner when
 * null, for ListGroups): one sub-request per owner, each carrying its groups, and answers with
 * `merge` of their answers. An owner that is down answers COORDINATOR_LOAD_IN_PROGRESS (its
 * replacement replays the groups first), which clients retry.
 */
export function toCoordinator<K extends GroupApiKey>(
  scope: RequestScope,
  request: DecodedRequest,
  apiKey: K,
  header: RequestHeaders[K],
  groupIds: readonly string[] | null,
  merge: (answers: ResponseHeaders[K][]) => ResponseHeaders[K],
): Promise<void> {
  const n = scope.ctx.offsetsPartitions;
  const cluster = scope.ctx.cluster;
  let refs =
    groupIds === null
      ? Array.from({ length: n }, (_, partition) => ({ topic: OFFSETS_TOPIC, partition, groupId: '' }))
      : groupIds.map((groupId) => ({ topic: OFFSETS_TOPIC, partition: coordinatorPartition(groupId, n), groupId }));
  if (cluster !== undefined) {
    // ListGroups lists the groups this node coordinates (as Kafka's does); any other group
    // request must reach the coordinator of each of its groups.
    const ours = refs.filter((r) => cluster.leaderCheck(r.topic, r.partition) === null);
    if (groupIds === null) refs = ours;
    else if (ours.length < refs.length) {
      const stray = refs.filter((r) => !ours.includes(r));
      scope.write(encodeResponse(request.correlationId, apiKey, groupFailure(apiKey, (apiKey === ApiKeys.DescribeGroups || apiKey === ApiKeys.DeleteGroups ? { ...header, groups: refs.map((g) => g.groupId) } : header) as RequestHeaders[K], Errors.NOT_COORDINATOR.code, `node ${cluster.selfId} does not coordinate group ${stray.map((r) => r.groupId).join(', ')}; find its coordinator again`)));
      return Promise.resolve();
    }
    if (refs.length === 0) {
      scope.write(encodeResponse(request.correlationId, apiKey, merge([])));
      return Promise.resolve();
    }
  }
  const clientHost = scope.socket.remoteAddress ?? '';
  // Each owner gets the request narrowed to its groups.
  const narrowed = (group: { groupId: string }[]): RequestHeaders[K] =>
    (apiKey === ApiKeys.DescribeGroups || apiKey === ApiKeys.DeleteGroups ? { ...header, groups: group.map((g) => g.groupId) } : header) as RequestHeaders[K];
  const failed = (group: { groupId: string }[], spec: typeof Errors.NOT_COORDINATOR, message: string) => groupFailure(apiKey, narrowed(group), spec.code, message);
  type Answer = { response: ResponseHeaders[K] };
  const { bySlot } = scope.ctx.placement.groupByOwner(refs);
  if (bySlot.size === 0) {
    scope.write(encodeResponse(request.correlationId, apiKey, failed(refs, Errors.COORDINATOR_NOT_AVAILABLE, 'no worker owns the group\'s __consumer_offsets partition')));
    return Promise.resolve();
  }
  const bySlotGroups = new Map([...bySlot].map(([slot, group]) => [slot, group]));
  return fanOut(
    scope,
    [...bySlotGroups.values()].map((group) => group[0]),
    OwnerKind.Group,
    (firsts) => {
      const group = bySlotGroups.get(scope.ctx.placement.owner(firsts[0].topic, firsts[0].partition)!)!;
      return { apiKey, header: narrowed(group), clientHost } satisfies GroupRequestMeta;
    },
    (p) => ({ response: failed([p], Errors.COORDINATOR_NOT_AVAILABLE, 'no worker owns the group\'s __consumer_offsets partition') }) as Answer,
    (p) => ({ response: failed(bySlotGroups.get(scope.ctx.placement.owner(p.topic, p.partition)!) ?? [p], Errors.COORDINATOR_LOAD_IN_PROGRESS, 'the coordinator is restarting; retry') }) as Answer,
    (answer) => {
      const result = answer as GroupResultMeta;
      return [{ response: (result.errorCode === 0 ? result.response : failed(refs, Errors.COORDINATOR_LOAD_IN_PROGRESS, result.message ?? 'the coordinator failed')) as ResponseHeaders[K] }];
    },
  ).then(({ answers }) => scope.track(request, answers.then((list) => encodeResponse(request.correlationId, apiKey, merge(list.map((a) => a.response))))));
}
