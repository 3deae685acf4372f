// The reassignment commands of the metadata state machine (queue, start, finish, cancel) and the
// controller's next steps: replicas = target + old while moving, the final set once the new
// replicas are in sync, leadership moving with an epoch bump, rollback on cancel.

import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { MetadataState, type MetadataCommand } from '../../../src/cluster/metadata/metadata-state.js';
import { reassignmentSteps } from '../../../src/cluster/metadata/reassignment-steps.js';

const register = (id: number): MetadataCommand => ({ type: 'register-broker', id, host: `h${id}`, ports: { broker: 9092 }, rack: null });

/** Brokers 1 and 2 with topic t (2 partitions, RF 1: 0 on 1, 1 on 2), then broker 3 joins. */
function cluster() {
  const s = new MetadataState();
  for (const id of [1, 2]) s.execute(register(id));
  s.execute({ type: 'create-topic', name: 't', partitions: 2, replicationFactor: 1 });
  s.execute(register(3));
  return { s, p: (i = 0) => s.topic('t')!.partitions[i] };
}

const joinIsr = (s: MetadataState, partition: number, isr: number[]) => {
  const p = s.topic('t')!.partitions[partition];
  return s.execute({ type: 'alter-isr', topic: 't', partition, leader: p.leader, leaderEpoch: p.leaderEpoch, isr });
};

describe('reassignment commands', () => {
  it('moves an RF 1 partition: union while catching up, then the new replica leads in a new epoch', () => {
    const { s, p } = cluster();
    expect(p()).toMatchObject({ replicas: [1], leader: 1, leaderEpoch: 0 });
    expect(s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [3] }] })).toMatchObject({ ok: true });
    expect(reassignmentSteps(s, 2)).toEqual([{ type: 'start-reassignment', topic: 't', partition: 0 }]);
    expect(s.execute({ type: 'start-reassignment', topic: 't', partition: 0 })).toMatchObject({ ok: true });
    expect(p()).toMatchObject({ replicas: [3, 1], leader: 1, leaderEpoch: 0, isr: [1], addingReplicas: [3], removingReplicas: [1] });
    expect(s.queuedReassignments()).toEqual([]);
    // Not caught up: nothing to finish, and finishing is refused.
    expect(reassignmentSteps(s, 2)).toEqual([]);
    expect(s.execute({ type: 'finish-reassignment', topic: 't', partition: 0 })).toMatchObject({ ok: false, code: Errors.NOT_IN_ISR.code });
    expect(joinIsr(s, 0, [1, 3])).toMatchObject({ ok: true });
    expect(reassignmentSteps(s, 2)).toEqual([{ type: 'finish-reassignment', topic: 't', partition: 0 }]);
    expect(s.execute({ type: 'finish-reassignment', topic: 't', partition: 0 })).toMatchObject({ ok: true });
    expect(p()).toEqual({ replicas: [3], leader: 3, leaderEpoch: 1, isr: [3] });
    expect(s.movingPartitions()).toEqual([]);
  });

  it('keeps the leader (and its epoch) when it stays, and only its ISR members', () => {
    const s = new MetadataState();
    for (const id of [1, 2, 3]) s.execute(register(id));
    s.execute({ type: 'create-topic', name: 't', partitions: 1, replicationFactor: 2 });
    const { replicas, leader } = s.topic('t')!.partitions[0];
    const other = replicas.find((r) => r !== leader)!;
    const spare = [1, 2, 3].find((r) => !replicas.includes(r))!;
    s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [leader, spare] }] });
    s.execute({ type: 'start-reassignment', topic: 't', partition: 0 });
    expect(s.topic('t')!.partitions[0]).toMatchObject({ replicas: [leader, spare, other], addingReplicas: [spare], removingReplicas: [other] });
    joinIsr(s, 0, [leader, other, spare]);
    expect(s.execute({ type: 'finish-reassignment', topic: 't', partition: 0 })).toMatchObject({ ok: true });
    expect(s.topic('t')!.partitions[0]).toEqual({ replicas: [leader, spare], leader, leaderEpoch: 0, isr: [leader, spare] });
  });

  it('bounds the moves in progress, and refuses a second rebalance while one runs', () => {
    const { s } = cluster();
    s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [3] }, { topic: 't', partition: 1, replicas: [3] }] });
    expect(reassignmentSteps(s, 1)).toEqual([{ type: 'start-reassignment', topic: 't', partition: 0 }]);
    s.execute({ type: 'start-reassignment', topic: 't', partition: 0 });
    expect(reassignmentSteps(s, 1)).toEqual([]);
    expect(s.execute({ type: 'queue-reassignments', moves: [] })).toMatchObject({ ok: false, code: Errors.REASSIGNMENT_IN_PROGRESS.code });
    // A snapshot carries the queue and the moves in progress.
    const copy = new MetadataState();
    copy.restore(s.snapshot(), 10);
    expect(copy.queuedReassignments()).toEqual([{ topic: 't', partition: 1, replicas: [3] }]);
    expect(copy.movingPartitions().map((m) => m.partition)).toEqual([0]);
  });

  it('cancel drops the queue and rolls moves back; bad targets get clear codes', () => {
    const { s, p } = cluster();
    expect(s.execute({ type: 'cancel-reassignments' })).toMatchObject({ ok: false, code: Errors.NO_REASSIGNMENT_IN_PROGRESS.code });
    expect(s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [3, 3] }] })).toMatchObject({ ok: false, code: Errors.INVALID_REPLICA_ASSIGNMENT.code });
    expect(s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [9] }] })).toMatchObject({ ok: false, code: Errors.INVALID_REPLICA_ASSIGNMENT.code });
    expect(s.execute({ type: 'queue-reassignments', moves: [{ topic: 'nope', partition: 0, replicas: [3] }] })).toMatchObject({ ok: false, code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
    s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [3] }, { topic: 't', partition: 1, replicas: [3] }] });
    s.execute({ type: 'start-reassignment', topic: 't', partition: 0 });
    joinIsr(s, 0, [1, 3]);
    expect(s.execute({ type: 'cancel-reassignments' })).toMatchObject({ ok: true });
    expect(p()).toEqual({ replicas: [1], leader: 1, leaderEpoch: 0, isr: [1] });
    expect(s.queuedReassignments()).toEqual([]);
    expect(s.execute({ type: 'start-reassignment', topic: 't', partition: 1 })).toMatchObject({ ok: false, code: Errors.NO_REASSIGNMENT_IN_PROGRESS.code });
  });

  it('a target broker fenced before its move starts drops the move; a fenced old leader hands over to the new replica', () => {
    const { s, p } = cluster();
    s.execute({ type: 'queue-reassignments', moves: [{ topic: 't', partition: 0, replicas: [3] }, { topic: 't', partition: 1, replicas: [3] }] });
    s.execute({ type: 'start-reassignment', topic: 't', partition: 0 });
    joinIsr(s, 0, [1, 3]);
    s.execute({ type: 'fence-broker', id: 1 });
    expect(p()).toMatchObject({ leader: 3, leaderEpoch: 1 });
    expect(s.execute({ type: 'finish-reassignment', topic: 't', partition: 0 })).toMatchObject({ ok: true });
    expect(p()).toEqual({ replicas: [3], leader: 3, leaderEpoch: 1, isr: [3] });
    s.execute({ type: 'fence-broker', id: 3 });
    expect(s.execute({ type: 'start-reassignment', topic: 't', partition: 1 })).toMatchObject({ ok: true });
    expect(s.topic('t')!.partitions[1]).toEqual({ replicas: [2], leader: 2, leaderEpoch: 0, isr: [2] });
    expect(s.queuedReassignments()).toEqual([]);
  });
});
