// The membership state machine against a fake coordinator: the MEMBER_ID_REQUIRED handshake, the
// leader's assignment, and what each error from join, sync and heartbeat makes the member do.

import { afterEach, describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../../src/errors.js';
import { ApiKeys, type JoinGroupResponse, type TopicPartitions } from '../../../src/protocol/index.js';
import { cooperativeStickyAssignor, rangeAssignor, type Assignor, type RebalanceProtocol } from '../../../src/client/assignors/index.js';
import { GroupMembership, type MembershipHooks } from '../../../src/client/group/membership.js';
import { silentLogger } from '../../../src/client/logger.js';
import { RetryPolicy } from '../../../src/client/retry.js';
import { waitFor } from '../../helpers/wait-for.js';
import { FakeCoordinator } from './fake-coordinator.js';

const running: GroupMembership[] = [];
afterEach(async () => {
  for (const m of running.splice(0)) await m.stop();
});

class RecordingHooks implements MembershipHooks {
  readonly log: string[] = [];
  assignments: TopicPartitions[][] = [];
  owning: TopicPartitions[] = [];
  rejoinAfterAssign = false;
  fatalError: RillError | null = null;
  topics() {
    return ['t'];
  }
  owned() {
    return this.owning;
  }
  async partitionCounts(topics: string[]) {
    return new Map(topics.map((t) => [t, 4] as const));
  }
  async beforeJoin(protocol: RebalanceProtocol) {
    this.log.push(`beforeJoin:${protocol}`);
  }
  async assigned(assignment: TopicPartitions[], protocol: RebalanceProtocol) {
    this.log.push(`assigned:${protocol}`);
    this.assignments.push(assignment);
    this.owning = assignment;
    const rejoin = this.rejoinAfterAssign;
    this.rejoinAfterAssign = false;
    return rejoin;
  }
  async lost(error: RillError) {
    this.log.push(`lost:${error.type}`);
    this.owning = [];
  }
  fatal(error: RillError) {
    this.log.push(`fatal:${error.type}`);
    this.fatalError = error;
  }
}

const joined = (memberId: string, generationId: number, overrides: Partial<JoinGroupResponse> = {}): JoinGroupResponse => ({
  errorCode: 0,
  generationId,
  protocolName: 'range',
  leader: memberId,
  memberId,
  members: [{ memberId, subscription: { topics: ['t'], ownedPartitions: [] } }],
  ...overrides,
});

function setup(assignors: Assignor[] = [rangeAssignor], options: { groupInstanceId?: string } = {}) {
  const coordinator = new FakeCoordinator();
  const hooks = new RecordingHooks();
  let generation = 0;
  // Default coordinator: the KIP-394 handshake, then a generation per join with this member leading.
  coordinator.on(ApiKeys.JoinGroup, (r) => (r.memberId === '' && r.groupInstanceId === undefined ? { ...joined('m-1', -1), errorCode: Errors.MEMBER_ID_REQUIRED.code, leader: '' } : joined(r.memberId || 'static-1', ++generation, { protocolName: r.protocols[0].name })));
  coordinator.on(ApiKeys.SyncGroup, (r) => ({ errorCode: 0, protocolName: 'range', assignment: r.assignments?.find((a) => a.memberId === r.memberId)?.partitions ?? [] }));
  const membership = new GroupMembership(
    coordinator,
    { groupId: 'g', clientId: 'c', sessionTimeoutMs: 1000, rebalanceTimeoutMs: 1000, heartbeatIntervalMs: 10, assignors, retry: new RetryPolicy({ initialRetryTimeMs: 5, retries: 3 }), logger: silentLogger, ...options },
    hooks,
  );
  running.push(membership);
  return { coordinator, hooks, membership };
}

describe('group membership', () => {
  it('joins with the member id the coordinator hands out, assigns as leader, syncs and heartbeats', async () => {
    const { coordinator, hooks, membership } = setup();
    membership.start();
    await waitFor(() => membership.state === 'stable' && coordinator.sent(ApiKeys.Heartbeat).length >= 2, { what: 'stable with heartbeats' });
    const joins = coordinator.sent(ApiKeys.JoinGroup);
    expect(joins.map((j) => j.memberId)).toEqual(['', 'm-1']);
    expect(joins[1]).toMatchObject({ groupId: 'g', protocolType: 'consumer', protocols: [{ name: 'range' }], subscription: { topics: ['t'], ownedPartitions: [] } });
    const [sync] = coordinator.sent(ApiKeys.SyncGroup);
    expect(sync).toMatchObject({ generationId: 1, memberId: 'm-1', assignments: [{ memberId: 'm-1', partitions: [{ topic: 't', partitions: [0, 1, 2, 3] }] }] });
    expect(hooks.assignments).toEqual([[{ topic: 't', partitions: [0, 1, 2, 3] }]]);
    expect(membership.assignedCounts.get('t')).toBe(4);
    expect(coordinator.sent(ApiKeys.Heartbeat)[0]).toMatchObject({ groupId: 'g', generationId: 1, memberId: 'm-1' });
    expect(hooks.log).toEqual(['beforeJoin:eager', 'assigned:eager']);
  });

  it('a follower sends no assignments and takes what the sync answer gives it', async () => {
    const { coordinator, hooks, membership } = setup();
    coordinator.on(ApiKeys.JoinGroup, (r) => (r.memberId === '' ? { ...joined('m-2', -1), errorCode: Errors.MEMBER_ID_REQUIRED.code } : joined('m-2', 4, { leader: 'm-1', members: [] })));
    coordinator.on(ApiKeys.SyncGroup, () => ({ errorCode: 0, protocolName: 'range', assignment: [{ topic: 't', partitions: [2, 3] }] }));
    membership.start();
    await waitFor(() => membership.state === 'stable', { what: 'stable' });
    expect(coordinator.sent(ApiKeys.SyncGroup)[0].assignments).toBeUndefined();
    expect(membership.isLeader).toBe(false);
    expect(hooks.assignments).toEqual([[{ topic: 't', partitions: [2, 3] }]]);
  });

  it('rejoins when a heartbeat says REBALANCE_IN_PROGRESS, keeping its member id, preparing first', async () => {
    const { coordinator, hooks, membership } = setup();
    membership.start();
    await waitFor(() => membership.state === 'stable', { what: 'stable' });
    let rebalancing = true;
    coordinator.on(ApiKeys.Heartbeat, () => ({ errorCode: rebalancing ? Errors.REBALANCE_IN_PROGRESS.code : 0 }));
    await waitFor(() => membership.generationId === 2, { what: 'generation 2' });
    rebalancing = false;
    expect(coordinator.sent(ApiKeys.JoinGroup).map((j) => j.memberId)).toEqual(['', 'm-1', 'm-1']);
    expect(hooks.log).toEqual(['beforeJoin:eager', 'assigned:eager', 'beforeJoin:eager', 'assigned:eager']);
  });

  it('ILLEGAL_GENERATION from a heartbeat: partitions lost, rejoin with the same member id', async () => {
    const { coordinator, hooks, membership } = setup();
    membership.start();
    await waitFor(() => membership.state === 'stable', { what: 'stable' });
    let once = true;
    coordinator.on(ApiKeys.Heartbeat, () => {
      const errorCode = once ? Errors.ILLEGAL_GENERATION.code : 0;
      once = false;
      return { errorCode };
    });
    await waitFor(() => membership.generationId === 2 && membership.state === 'stable', { what: 'rejoined' });
    expect(hooks.log).toContain('lost:ILLEGAL_GENERATION');
    expect(coordinator.sent(ApiKeys.JoinGroup).at(-1)!.memberId).toBe('m-1');
  });

  it('UNKNOWN_MEMBER_ID from a sync: partitions lost, the member id forgotten, joins again as new', async () => {
    const { coordinator, hooks, membership } = setup();
    let failSync = true;
    coordinator.on(ApiKeys.SyncGroup, (r) => {
      if (failSync) {
        failSync = false;
        return { errorCode: Errors.UNKNOWN_MEMBER_ID.code, protocolName: '', assignment: [] };
      }
      return { errorCode: 0, protocolName: 'range', assignment: r.assignments?.[0]?.partitions ?? [] };
    });
    membership.start();
    await waitFor(() => membership.state === 'stable', { what: 'stable after the second try' });
    expect(hooks.log).toContain('lost:UNKNOWN_MEMBER_ID');
    expect(coordinator.sent(ApiKeys.JoinGroup).map((j) => j.memberId)).toEqual(['', 'm-1', '', 'm-1']);
  });

  it('REBALANCE_IN_PROGRESS from a sync: joins again', async () => {
    const { coordinator, membership } = setup();
    let failSync = true;
    coordinator.on(ApiKeys.SyncGroup, (r) => {
      const errorCode = failSync ? Errors.REBALANCE_IN_PROGRESS.code : 0;
      failSync = false;
      return { errorCode, protocolName: 'range', assignment: errorCode === 0 ? r.assignments![0].partitions : [] };
    });
    membership.start();
    await waitFor(() => membership.state === 'stable', { what: 'stable' });
    expect(membership.generationId).toBe(2);
  });

  it('a fatal join error (FENCED_INSTANCE_ID, INVALID_SESSION_TIMEOUT) stops the member and reports it', async () => {
    for (const spec of [Errors.FENCED_INSTANCE_ID, Errors.INVALID_SESSION_TIMEOUT, Errors.INCONSISTENT_GROUP_PROTOCOL]) {
      const { coordinator, hooks, membership } = setup([rangeAssignor], { groupInstanceId: 'host-1' });
      coordinator.on(ApiKeys.JoinGroup, () => ({ ...joined('', -1), errorCode: spec.code, message: spec.message }));
      membership.start();
      await waitFor(() => hooks.fatalError !== null, { what: `fatal ${spec.type}` });
      expect(hooks.fatalError!.code).toBe(spec.code);
      expect(coordinator.sent(ApiKeys.JoinGroup)[0].groupInstanceId).toBe('host-1');
    }
  });

  it('cooperative: sends what it owns, and rejoins at once when its assignment revoked something', async () => {
    const { coordinator, hooks, membership } = setup([cooperativeStickyAssignor]);
    hooks.rejoinAfterAssign = true;
    membership.start();
    await waitFor(() => membership.generationId === 2 && membership.state === 'stable', { what: 'the second round' });
    const joins = coordinator.sent(ApiKeys.JoinGroup);
    expect(joins.at(-1)!.subscription.ownedPartitions).toEqual([{ topic: 't', partitions: [0, 1, 2, 3] }]);
    expect(hooks.log).toEqual(['beforeJoin:eager', 'assigned:cooperative', 'beforeJoin:cooperative', 'assigned:cooperative']);
  });

  it('leave() sends LeaveGroup with its member id and forgets it', async () => {
    const { coordinator, membership } = setup();
    membership.start();
    await waitFor(() => membership.state === 'stable', { what: 'stable' });
    await membership.leave();
    expect(coordinator.sent(ApiKeys.LeaveGroup)).toEqual([{ groupId: 'g', members: [{ memberId: 'm-1' }] }]);
    expect(membership.memberId).toBe('');
    expect(membership.state).toBe('left');
  });
});
