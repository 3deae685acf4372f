// The rebalance state machine of a group: holding joins, the join phase and its timers, starting
// a generation, session timeouts and evictions, and becoming Empty. Worker thread only (the owner
// of the group's __consumer_offsets partition).
//
// States (Kafka's): Empty -> PreparingRebalance (joins held until all members rejoined or the
// rebalance timeout passed; a new group first waits initialRebalanceDelayMs, stretched by each new
// joiner) -> CompletingRebalance (new generation; waiting for the leader's SyncGroup, sync-group.ts)
// -> Stable. A member silent for its session timeout is evicted and the group rebalances.

import { Errors } from '../../errors.js';
import type { JoinGroupResponse } from '../../protocol/index.js';
import { type CoordinatorClock } from './coordinator-clock.js';
import { fail, joinFailure, syncFailure, type CoordinatorLog, type CoordinatorSettings } from './coordinator-context.js';
import { type Group, type Member } from './group.js';
import { groupRecord } from './group-records.js';

export class Rebalancer {
  private readonly settings: CoordinatorSettings;
  private readonly clock: CoordinatorClock;
  private readonly log: CoordinatorLog;

  constructor(settings: CoordinatorSettings, clock: CoordinatorClock, log: CoordinatorLog) {
    this.settings = settings;
    this.clock = clock;
    this.log = log;
  }

  waitForJoin(member: Member): Promise<JoinGroupResponse> {
    // A join already waiting (the member retried) is answered now: only the newest counts.
    member.joinWaiter?.(joinFailure(fail(Errors.REBALANCE_IN_PROGRESS, 'superseded by a newer JoinGroup of the same member'), member.memberId));
    // While its join is held the member cannot heartbeat: the rebalance timeout bounds the wait instead.
    member.cancelSession?.();
    member.cancelSession = null;
    return new Promise((resolve) => (member.joinWaiter = resolve));
  }

  joinAnswer(group: Group, member: Member): JoinGroupResponse {
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
  prepareRebalance(group: Group, initial: boolean): void {
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

  armRebalance(group: Group, ms: number): void {
    group.cancelRebalance?.();
    group.cancelRebalance = this.clock.schedule(ms, () => {
      group.cancelRebalance = null;
      if (group.state !== 'PreparingRebalance') return;
      group.initialDelay = false;
      this.completeJoin(group);
    });
  }

  /** Completes the join phase early once every member has rejoined (not during the initial delay). */
  tryCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || group.initialDelay) return;
    for (const member of group.members.values()) if (member.joinWaiter === null) return;
    group.cancelRebalance?.();
    group.cancelRebalance = null;
    this.completeJoin(group);
  }

  /** Ends the join phase: drops who did not rejoin, starts the next generation, answers the joins. */
  completeJoin(group: Group): void {
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

  becomeEmpty(group: Group): void {
    group.cancelRebalance?.();
    group.cancelRebalance = null;
    group.state = 'Empty';
    group.leader = '';
    group.protocolName = '';
    this.log.append(group.partition, [groupRecord(group.groupId, group.toRecord())]).catch(() => {
      // The next state change writes the group again; committed offsets are written separately.
    });
  }

  startSession(group: Group, member: Member): void {
    member.cancelSession?.();
    member.cancelSession = this.clock.schedule(member.sessionTimeoutMs, () => {
      member.cancelSession = null;
      if (group.members.get(member.memberId) !== member) return;
      this.removeAndRebalance(group, member);
    });
  }

  removeAndRebalance(group: Group, member: Member): void {
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
}
