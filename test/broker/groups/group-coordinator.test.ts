import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { coordinator, flush, joinNew, joinRequest, MemoryLog, ManualClock } from './coordinator-fixture.js';
import type { GroupCoordinator } from '../../../src/broker/groups/group-coordinator.js';

const assignment = (memberId: string, partitions: number[]) => ({ memberId, partitions: [{ topic: 't', partitions }] });

/** Two members in a Stable generation: a holds t-0,t-1; b holds t-2. */
async function stableGroup(c: GroupCoordinator, groupId = 'g') {
  // a forms generation 1 alone; b's join starts a rebalance, which a joins as its heartbeat tells it to.
  const a = await joinNew(c, groupId);
  expect((await a.answer).generationId).toBe(1);
  const b = await joinNew(c, groupId);
  const [ja, jb] = await Promise.all([c.join(joinRequest(groupId, { memberId: a.memberId }), '127.0.0.1'), b.answer]);
  expect(ja.errorCode).toBe(0);
  expect(ja.generationId).toBe(2);
  expect(jb.generationId).toBe(ja.generationId);
  const leader = ja.leader === a.memberId ? a : b;
  const follower = leader === a ? b : a;
  const followerSync = c.sync({ groupId, generationId: ja.generationId, memberId: follower.memberId });
  const leaderSync = await c.sync({ groupId, generationId: ja.generationId, memberId: leader.memberId, assignments: [assignment(a.memberId, [0, 1]), assignment(b.memberId, [2])] });
  expect(leaderSync.errorCode).toBe(0);
  expect((await followerSync).errorCode).toBe(0);
  return { a: a.memberId, b: b.memberId, leader: leader.memberId, follower: follower.memberId, generationId: ja.generationId };
}

describe('group coordinator', () => {
  it('hands a new member its id first (MEMBER_ID_REQUIRED), then joins it', async () => {
    const { c } = coordinator();
    const first = await c.join(joinRequest('g'), 'h');
    expect(first.errorCode).toBe(Errors.MEMBER_ID_REQUIRED.code);
    expect(first.memberId).toMatch(/^test-/);
    const joined = await c.join(joinRequest('g', { memberId: first.memberId }), 'h');
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, leader: first.memberId, memberId: first.memberId, protocolName: 'range' });
    expect(joined.members.map((m) => m.memberId)).toEqual([first.memberId]);
  });

  it('completes a generation once every member has joined; the leader alone gets the members', async () => {
    const { c } = coordinator();
    const { a, b, leader, follower, generationId } = await stableGroup(c);
    const [described] = c.describe(['g']);
    expect(described).toMatchObject({ state: 'Stable', generationId, leader, protocolName: 'range' });
    expect(described.members.find((m) => m.memberId === a)!.assignment).toEqual([{ topic: 't', partitions: [0, 1] }]);
    expect(described.members.find((m) => m.memberId === b)!.assignment).toEqual([{ topic: 't', partitions: [2] }]);
    expect(follower).not.toBe(leader);
  });

  it('delays the first generation of a new group so that members starting together share it', async () => {
    const { c, clock } = coordinator({ initialRebalanceDelayMs: 3000 });
    const a = await joinNew(c, 'g');
    let answered = false;
    void a.answer.then(() => (answered = true));
    clock.advance(2000);
    await flush();
    expect(answered).toBe(false);
    const b = await joinNew(c, 'g');
    clock.advance(2999);
    await flush();
    expect(answered).toBe(false);
    clock.advance(1);
    const [ja, jb] = await Promise.all([a.answer, b.answer]);
    expect(ja.generationId).toBe(1);
    expect(jb.generationId).toBe(1);
  });

  it('refuses bad session timeouts, foreign protocols and groups it does not coordinate', async () => {
    const { c } = coordinator();
    expect((await c.join(joinRequest('g', { sessionTimeoutMs: 10 }), 'h')).errorCode).toBe(Errors.INVALID_SESSION_TIMEOUT.code);
    await stableGroup(c);
    expect((await c.join(joinRequest('g', { protocols: [{ name: 'roundrobin' }] }), 'h')).errorCode).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL.code);
    expect((await c.join(joinRequest('g', { protocolType: 'connect' }), 'h')).errorCode).toBe(Errors.INCONSISTENT_GROUP_PROTOCOL.code);
    c.unload(c.partitionOf('g'));
    expect((await c.join(joinRequest('g'), 'h')).errorCode).toBe(Errors.NOT_COORDINATOR.code);
    expect(c.heartbeat({ groupId: 'g', generationId: 1, memberId: 'x' }).errorCode).toBe(Errors.NOT_COORDINATOR.code);
  });

  it('answers stale generations, unknown members, non-leaders and bad assignments with clear errors', async () => {
    const { c } = coordinator();
    const { a, leader, follower, generationId } = await stableGroup(c);
    expect(c.heartbeat({ groupId: 'g', generationId: generationId - 1, memberId: a })).toMatchObject({ errorCode: Errors.ILLEGAL_GENERATION.code });
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: 'nobody' }).errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: a }).errorCode).toBe(0);
    // A rejoin of the leader starts a rebalance: heartbeats say so, syncs too.
    const leaderJoin = c.join(joinRequest('g', { memberId: leader }), 'h');
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: follower }).errorCode).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    expect((await c.sync({ groupId: 'g', generationId, memberId: follower })).errorCode).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    const followerJoin = c.join(joinRequest('g', { memberId: follower }), 'h');
    const [jl] = await Promise.all([leaderJoin, followerJoin]);
    const next = jl.generationId;
    expect(next).toBe(generationId + 1);
    expect((await c.sync({ groupId: 'g', generationId: next, memberId: follower, assignments: [assignment(follower, [0])] })).errorCode).toBe(Errors.NOT_GROUP_LEADER.code);
    expect((await c.sync({ groupId: 'g', generationId: next, memberId: leader, assignments: [assignment(leader, [0]), assignment(follower, [0])] })).errorCode).toBe(Errors.INVALID_ASSIGNMENT.code);
    expect((await c.sync({ groupId: 'g', generationId: next, memberId: leader, assignments: [assignment('stranger', [0])] })).errorCode).toBe(Errors.INVALID_ASSIGNMENT.code);
    expect((await c.sync({ groupId: 'g', generationId: next, memberId: leader, assignments: [assignment(leader, [0, 1, 2])] })).assignment).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    expect((await c.sync({ groupId: 'g', generationId: next, memberId: follower })).assignment).toEqual([]);
  });

  it('commits only for owned partitions of the current generation, and fetches them back', async () => {
    const { c } = coordinator();
    const { a, generationId } = await stableGroup(c);
    const committed = await c.commit({ groupId: 'g', generationId, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 42, metadata: 'm' }, { topic: 't', partition: 2, offset: 7 }] });
    expect(committed.partitions.map((p) => p.errorCode)).toEqual([0, Errors.PARTITION_NOT_ASSIGNED.code]);
    expect((await c.commit({ groupId: 'g', generationId: generationId + 5, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 1 }] })).partitions[0].errorCode).toBe(Errors.ILLEGAL_GENERATION.code);
    expect((await c.commit({ groupId: 'g', generationId: -1, memberId: '', partitions: [{ topic: 't', partition: 0, offset: 1 }] })).errorCode).toBe(Errors.NON_EMPTY_GROUP.code);
    const fetched = c.fetchOffsets({ groupId: 'g', partitions: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }] });
    expect(fetched.partitions.map((p) => [p.offset, p.metadata])).toEqual([[42, 'm'], [-1, '']]);
    expect(c.fetchOffsets({ groupId: 'g' }).partitions.map((p) => p.offset)).toEqual([42]);
  });

  it('accepts a cooperative member\'s commit for a partition just revoked from it, until another member is assigned it', async () => {
    const { c } = coordinator();
    const { a, b, leader, follower } = await stableGroup(c);
    const rebalance = async (assignments: { memberId: string; partitions: { topic: string; partitions: number[] }[] }[]) => {
      const [jl] = await Promise.all([c.join(joinRequest('g', { memberId: leader }), 'h'), c.join(joinRequest('g', { memberId: follower }), 'h')]);
      const followerSync = c.sync({ groupId: 'g', generationId: jl.generationId, memberId: follower });
      expect((await c.sync({ groupId: 'g', generationId: jl.generationId, memberId: leader, assignments })).errorCode).toBe(0);
      expect((await followerSync).errorCode).toBe(0);
      return jl.generationId;
    };
    // Generation 3 takes t-1 from a and gives it to nobody yet (KIP-429's first round).
    const third = await rebalance([assignment(a, [0]), assignment(b, [2])]);
    const revokedCommit = await c.commit({ groupId: 'g', generationId: third, memberId: a, partitions: [{ topic: 't', partition: 1, offset: 9 }] });
    expect(revokedCommit.partitions[0].errorCode).toBe(0);
    expect((await c.commit({ groupId: 'g', generationId: third, memberId: b, partitions: [{ topic: 't', partition: 1, offset: 9 }] })).partitions[0].errorCode).toBe(Errors.PARTITION_NOT_ASSIGNED.code);
    // Generation 4 gives it to b: a may no longer commit it.
    const fourth = await rebalance([assignment(a, [0]), assignment(b, [1, 2])]);
    expect((await c.commit({ groupId: 'g', generationId: fourth, memberId: a, partitions: [{ topic: 't', partition: 1, offset: 10 }] })).partitions[0].errorCode).toBe(Errors.PARTITION_NOT_ASSIGNED.code);
    expect(c.fetchOffsets({ groupId: 'g', partitions: [{ topic: 't', partition: 1 }] }).partitions[0].offset).toBe(9);
  });

  it('evicts a member that stops heartbeating and rebalances the rest', async () => {
    const { c, clock } = coordinator();
    const { a, b, generationId } = await stableGroup(c);
    clock.advance(6000);
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: a }).errorCode).toBe(0);
    clock.advance(5000); // b's session (10 s) has run out; a's has not
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: b }).errorCode).toBe(Errors.UNKNOWN_MEMBER_ID.code);
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: a }).errorCode).toBe(Errors.REBALANCE_IN_PROGRESS.code);
    const rejoined = await c.join(joinRequest('g', { memberId: a }), 'h');
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: generationId + 1, leader: a });
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a]);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    const { c, clock } = coordinator();
    const { a, b, generationId } = await stableGroup(c);
    const join = c.join(joinRequest('g', { memberId: a, rebalanceTimeoutMs: 5000 }), 'h');
    // b keeps heartbeating but never rejoins.
    for (let t = 0; t < 31; t++) { // the group's rebalance timeout is the longest of its members' (30 s)
      clock.advance(1000);
      c.heartbeat({ groupId: 'g', generationId, memberId: b });
    }
    const answer = await join;
    expect(answer.members.map((m) => m.memberId)).toEqual([a]);
    expect(c.describe(['g'])[0].members.map((m) => m.memberId)).toEqual([a]);
  });

  it('lets a member leave at once and empties the group when the last one goes', async () => {
    const { c } = coordinator();
    const { a, b } = await stableGroup(c);
    expect(c.leave({ groupId: 'g', members: [{ memberId: b }, { memberId: 'ghost' }] }).members.map((m) => m.errorCode)).toEqual([0, Errors.UNKNOWN_MEMBER_ID.code]);
    expect(c.describe(['g'])[0].state).toBe('PreparingRebalance');
    c.leave({ groupId: 'g', members: [{ memberId: a }] });
    expect(c.describe(['g'])[0]).toMatchObject({ state: 'Empty', members: [] });
    expect(c.leave({ groupId: 'nope', members: [{ memberId: a }] }).errorCode).toBe(Errors.GROUP_ID_NOT_FOUND.code);
  });

  it('gives a restarted static member its place back without a rebalance, and fences the old id', async () => {
    const { c } = coordinator();
    const s = { groupInstanceId: 'worker-1' };
    const first = await c.join(joinRequest('g', s), 'h');
    expect(first.errorCode).toBe(0);
    const other = await joinNew(c, 'g');
    void other;
    // The static member is in the rebalance started by the second member.
    const rejoin = c.join(joinRequest('g', { ...s, memberId: first.memberId }), 'h');
    const [j1, j2] = await Promise.all([rejoin, other.answer]);
    const leader = j1.leader;
    const generationId = j1.generationId;
    expect(j2.generationId).toBe(generationId);
    const syncs = [c.sync({ groupId: 'g', generationId, memberId: first.memberId, groupInstanceId: 'worker-1', ...(leader === first.memberId ? { assignments: [assignment(first.memberId, [0]), assignment(other.memberId, [1])] } : {}) }),
      c.sync({ groupId: 'g', generationId, memberId: other.memberId, ...(leader === other.memberId ? { assignments: [assignment(first.memberId, [0]), assignment(other.memberId, [1])] } : {}) })];
    await Promise.all(syncs);
    // The process restarts: a new join with the same instance id and no member id.
    const back = await c.join(joinRequest('g', s), 'h');
    expect(back).toMatchObject({ errorCode: 0, generationId, skipAssignment: true });
    expect(back.memberId).not.toBe(first.memberId);
    expect((await c.sync({ groupId: 'g', generationId, memberId: back.memberId, groupInstanceId: 'worker-1' })).assignment).toEqual([{ topic: 't', partitions: [0] }]);
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: first.memberId, groupInstanceId: 'worker-1' }).errorCode).toBe(Errors.FENCED_INSTANCE_ID.code);
    expect(c.heartbeat({ groupId: 'g', generationId, memberId: other.memberId }).errorCode).toBe(0);
    expect(c.describe(['g'])[0].state).toBe('Stable');
  });

  it('replays commits and group state from its log after a restart', async () => {
    const log = new MemoryLog();
    const { c } = coordinator({}, log);
    const { a, generationId } = await stableGroup(c);
    await c.commit({ groupId: 'g', generationId, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 10 }] });
    await c.commit({ groupId: 'g', generationId, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 20 }, { topic: 't', partition: 1, offset: 5 }] });
    const clock = new ManualClock();
    const { c: reloaded } = coordinator({}, log, clock);
    expect(reloaded.fetchOffsets({ groupId: 'g' }).partitions.map((p) => [p.partition, p.offset])).toEqual([[0, 20], [1, 5]]);
    const [described] = reloaded.describe(['g']);
    expect(described).toMatchObject({ state: 'Stable', generationId });
    expect(reloaded.heartbeat({ groupId: 'g', generationId, memberId: a }).errorCode).toBe(0);
    // Members that do not come back after the restart are evicted after their session timeout.
    clock.advance(11_000);
    expect(reloaded.describe(['g'])[0].members).toEqual([]);
  });

  it('deletes only empty groups, with tombstones that survive a restart', async () => {
    const log = new MemoryLog();
    const { c } = coordinator({}, log);
    const { a, b, generationId } = await stableGroup(c);
    await c.commit({ groupId: 'g', generationId, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 3 }] });
    expect((await c.deleteGroups(['g', 'missing'])).map((r) => r.errorCode)).toEqual([Errors.NON_EMPTY_GROUP.code, Errors.GROUP_ID_NOT_FOUND.code]);
    c.leave({ groupId: 'g', members: [{ memberId: a }, { memberId: b }] });
    expect(c.listGroups().map((g) => [g.groupId, g.state])).toEqual([['g', 'Empty']]);
    expect((await c.deleteGroups(['g']))[0].errorCode).toBe(0);
    expect(c.listGroups()).toEqual([]);
    const { c: reloaded } = coordinator({}, log);
    expect(reloaded.listGroups()).toEqual([]);
    expect(reloaded.fetchOffsets({ groupId: 'g' }).partitions).toEqual([]);
  });

  it('accepts commits from outside any generation only while the group is empty', async () => {
    const { c } = coordinator();
    const response = await c.commit({ groupId: 'tool', generationId: -1, memberId: '', partitions: [{ topic: 't', partition: 3, offset: 99 }] });
    expect(response.partitions[0].errorCode).toBe(0);
    expect(c.fetchOffsets({ groupId: 'tool' }).partitions[0].offset).toBe(99);
    expect(c.listGroups()).toEqual([{ groupId: 'tool', protocolType: '', state: 'Empty' }]);
  });

  it('answers a commit it could not write with a retriable error and keeps the old offset', async () => {
    const { c, log } = coordinator();
    const { a, generationId } = await stableGroup(c);
    await c.commit({ groupId: 'g', generationId, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 1 }] });
    log.failNext = true;
    expect((await c.commit({ groupId: 'g', generationId, memberId: a, partitions: [{ topic: 't', partition: 0, offset: 2 }] })).errorCode).toBe(Errors.COORDINATOR_NOT_AVAILABLE.code);
    expect(c.fetchOffsets({ groupId: 'g' }).partitions[0].offset).toBe(1);
  });
});
