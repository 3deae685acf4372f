// JoinGroup: new members (KIP-394's two-step join), rejoins, and static members (KIP-345) taking
// their old place back. Worker thread only (the owner of the group's __consumer_offsets partition).

import { randomUUID } from 'node:crypto';
import { Errors } from '../../errors.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../protocol/index.js';
import { fail, joinFailure, syncFailure, type CoordinatorContext, type Failure } from './coordinator-context.js';
import { Group, Member } from './group.js';
import { groupRecord } from './group-records.js';

export function joinGroup(ctx: CoordinatorContext, request: JoinGroupRequest, clientHost: string): Promise<JoinGroupResponse> {
  const { sessionTimeoutMs, groupId } = request;
  if (sessionTimeoutMs < ctx.settings.minSessionTimeoutMs || sessionTimeoutMs > ctx.settings.maxSessionTimeoutMs) {
    return Promise.resolve(joinFailure(fail(Errors.INVALID_SESSION_TIMEOUT, `sessionTimeoutMs must be between ${ctx.settings.minSessionTimeoutMs} and ${ctx.settings.maxSessionTimeoutMs} (group.min/max.session.timeout.ms), got ${sessionTimeoutMs}`), request.memberId));
  }
  const group = ctx.lookup(groupId, true) as Group | Failure;
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
      const cancel = ctx.clock.schedule(sessionTimeoutMs, () => group.pending.delete(memberId));
      group.pending.set(memberId, cancel);
      return Promise.resolve(joinFailure(fail(Errors.MEMBER_ID_REQUIRED, 'join again with the memberId in this answer'), memberId));
    }
    const previousId = group.instances.get(instanceId);
    const previous = previousId === undefined ? undefined : group.members.get(previousId);
    if (previous !== undefined) return replaceStatic(ctx, group, previous, memberId, request, protocols, clientHost);
    return addAndJoin(ctx, group, memberId, request, protocols, clientHost);
  }
  const cancelPending = group.pending.get(request.memberId);
  if (cancelPending !== undefined) {
    cancelPending();
    group.pending.delete(request.memberId);
    return addAndJoin(ctx, group, request.memberId, request, protocols, clientHost);
  }
  const member = group.members.get(request.memberId);
  if (member === undefined) return Promise.resolve(joinFailure(fail(Errors.UNKNOWN_MEMBER_ID, `member '${request.memberId}' is not in group '${groupId}'`), request.memberId));
  const fenced = ctx.fenced(group, member, instanceId);
  if (fenced !== undefined) return Promise.resolve(joinFailure(fenced, request.memberId));
  return rejoin(ctx, group, member, request, protocols);
}

function addAndJoin(ctx: CoordinatorContext, group: Group, memberId: string, request: JoinGroupRequest, protocols: string[], clientHost: string): Promise<JoinGroupResponse> {
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
  const answer = ctx.rebalancer.waitForJoin(member);
  ctx.rebalancer.prepareRebalance(group, group.state === 'Empty');
  ctx.rebalancer.tryCompleteJoin(group);
  return answer;
}

function rejoin(ctx: CoordinatorContext, group: Group, member: Member, request: JoinGroupRequest, protocols: string[]): Promise<JoinGroupResponse> {
  const unchanged = member.sameAs(protocols, request.subscription);
  member.sessionTimeoutMs = request.sessionTimeoutMs;
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
  member.protocols = protocols;
  member.subscription = request.subscription;
  switch (group.state) {
    case 'PreparingRebalance': {
      const answer = ctx.rebalancer.waitForJoin(member);
      ctx.rebalancer.tryCompleteJoin(group);
      return answer;
    }
    case 'CompletingRebalance':
    case 'Stable':
      // A follower that changed nothing just hears the current generation again; the leader
      // rejoining (metadata changed: new partitions, a new topic for its pattern) or any change
      // of subscription starts a rebalance.
      if (unchanged && member.memberId !== group.leader) {
        ctx.rebalancer.startSession(group, member);
        return Promise.resolve(ctx.rebalancer.joinAnswer(group, member));
      }
      {
        const answer = ctx.rebalancer.waitForJoin(member);
        ctx.rebalancer.prepareRebalance(group, false);
        ctx.rebalancer.tryCompleteJoin(group);
        return answer;
      }
    default:
      return Promise.resolve(joinFailure(fail(Errors.UNKNOWN_MEMBER_ID, `member '${member.memberId}' is not in group '${group.groupId}'`), member.memberId));
  }
}

/** A static member restarted: it takes the old member's place; the old id is fenced. */
function replaceStatic(ctx: CoordinatorContext, group: Group, previous: Member, memberId: string, request: JoinGroupRequest, protocols: string[], clientHost: string): Promise<JoinGroupResponse> {
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
    ctx.rebalancer.startSession(group, previous);
    return ctx.log.append(group.partition, [groupRecord(group.groupId, group.toRecord())]).then(
      () => ({ ...ctx.rebalancer.joinAnswer(group, previous), members: [], skipAssignment: true }),
      (error) => joinFailure(fail(Errors.COORDINATOR_NOT_AVAILABLE, `could not write the group: ${(error as Error).message}`), memberId),
    );
  }
  previous.protocols = protocols;
  previous.subscription = request.subscription;
  previous.sessionTimeoutMs = request.sessionTimeoutMs;
  previous.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
  const answer = ctx.rebalancer.waitForJoin(previous);
  ctx.rebalancer.prepareRebalance(group, false);
  ctx.rebalancer.tryCompleteJoin(group);
  return answer;
}
