// Partition reassignment (`rill cluster rebalance`) as metadata commands, the way Kafka's KIP-455
// does it. Pure functions over partition records, applied by the metadata state machine
// (metadata-state.ts), so every voter holds the same moves. Any thread.
//
// A move of partition P from replicas O to target T:
// 1. queue-reassignments records the targets of a whole plan. Refused while another plan is
//    queued or moving (REASSIGNMENT_IN_PROGRESS): one rebalance at a time.
// 2. start-reassignment (the controller, at most rebalance.max.concurrent.moves at once) sets
//    replicas = T then O \ T, addingReplicas = T \ O, removingReplicas = O \ T. Leader, epoch and
//    ISR stay: the leader takes the new followers into its replica set, they open the partition,
//    fetch from the leader and catch up, and the leader proposes them into the ISR (alter-isr).
// 3. finish-reassignment, once every adding replica is in the ISR: replicas = T, the ISR loses the
//    removed ones, and the leader becomes T's first replica if it is in sync (else the current
//    leader if it stays, else the first in-sync replica of T), with the leader epoch +1 when it
//    changes. The removed replicas' nodes close the partition and delete its files.
// 4. cancel-reassignments drops the queued targets and rolls back every move in progress: the
//    adding replicas leave (replicas, ISR), the removing ones stay. A partition whose ISR holds
//    none of its original replicas any more (they failed while the new ones took over) cannot go
//    back and keeps moving.
//
// Nothing acknowledged is lost: only ISR members ever lead, and a replica is only removed from a
// partition whose final ISR (non-empty, leader included) holds every acknowledged record.

import { Errors } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { isrOf } from './leader-election.js';
import type { PartitionRecord } from './metadata-state.js';

export interface ReassignmentTarget {
  topic: string;
  partition: number;
  /** The replicas after the move, preferred leader first. */
  replicas: number[];
}

export type ReassignmentCommand =
  | { type: 'queue-reassignments'; moves: ReassignmentTarget[] }
  | { type: 'start-reassignment'; topic: string; partition: number }
  | { type: 'finish-reassignment'; topic: string; partition: number }
  | { type: 'cancel-reassignments' };

export type MoveFailure = { code: number; message: string };

/** Whether a partition is being moved (start-reassignment applied, finish not yet). */
export function isMoving(p: PartitionRecord): boolean {
  return p.addingReplicas !== undefined;
}

/** The replicas a moving partition started from (its replicas without the adding ones). */
export function originalReplicas(p: PartitionRecord): number[] {
  const adding = p.addingReplicas ?? [];
  return p.replicas.filter((r) => !adding.includes(r));
}

/** The replicas a moving partition ends with (its replicas without the removing ones). */
export function targetReplicas(p: PartitionRecord): number[] {
  const removing = p.removingReplicas ?? [];
  return p.replicas.filter((r) => !removing.includes(r));
}

/** Why a target cannot be queued, or null: distinct, registered, unfenced brokers. */
export function checkTarget(replicas: readonly number[], broker: (id: number) => { fenced: boolean } | undefined): MoveFailure | null {
  if (replicas.length === 0 || new Set(replicas).size !== replicas.length) {
    return { code: Errors.INVALID_REPLICA_ASSIGNMENT.code, message: `replicas ${JSON.stringify(replicas)} must be distinct and at least one` };
  }
  const bad = replicas.find((r) => broker(r)?.fenced !== false);
  if (bad !== undefined) return { code: Errors.INVALID_REPLICA_ASSIGNMENT.code, message: `broker ${bad} is not a registered live broker` };
  return null;
}

/** Step 2: the union replica set while the new replicas catch up. */
export function startMove(p: PartitionRecord, target: readonly number[]): PartitionRecord {
  const removing = p.replicas.filter((r) => !target.includes(r));
  const adding = target.filter((r) => !p.replicas.includes(r));
  return { ...p, replicas: [...target, ...removing], isr: isrOf(p), addingReplicas: adding, removingReplicas: removing };
}

/** Step 3: the final replica set, once every adding replica is in sync. */
export function finishMove(p: PartitionRecord, live: (id: number) => boolean): PartitionRecord | MoveFailure {
  if (!isMoving(p)) return { code: Errors.NO_REASSIGNMENT_IN_PROGRESS.code, message: 'the partition is not being moved' };
  const isr = isrOf(p);
  const behind = (p.addingReplicas ?? []).filter((r) => !isr.includes(r));
  if (behind.length > 0) return { code: Errors.NOT_IN_ISR.code, message: `replicas ${behind.join(', ')} have not caught up yet` };
  const target = targetReplicas(p);
  return settle(p, target, isr.filter((r) => target.includes(r)), live);
}

/** Step 4 for one partition: back to its original replicas; null when that would lose records. */
export function cancelMove(p: PartitionRecord, live: (id: number) => boolean): PartitionRecord | null {
  if (!isMoving(p)) return p;
  const original = originalReplicas(p);
  const isr = isrOf(p).filter((r) => original.includes(r));
  if (isr.length === 0) return null;
  const settled = settle(p, original, isr, live, false);
  return 'code' in settled ? null : settled;
}

/**
 * The partition on `replicas` with `isr` (non-empty, a subset of them): the moving fields go, and
 * the leader is kept, or chosen from the ISR (the preferred replica first when `preferFirst`).
 */
function settle(p: PartitionRecord, replicas: number[], isr: number[], live: (id: number) => boolean, preferFirst = true): PartitionRecord | MoveFailure {
  const inSync = (r: number) => isr.includes(r) && live(r);
  let leader = p.leader;
  if (preferFirst && inSync(replicas[0])) leader = replicas[0];
  else if (!replicas.includes(leader) || !inSync(leader)) leader = replicas.find(inSync) ?? -1;
  if (leader === -1 && p.leader !== -1) {
    return { code: Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code, message: `no live in-sync replica among ${replicas.join(', ')} (ISR ${isr.join(', ')})` };
  }
  const { addingReplicas: _a, removingReplicas: _r, ...rest } = p;
  return { ...rest, replicas, isr: isr.length > 0 ? replicas.filter((r) => isr.includes(r)) : [...replicas], leader, leaderEpoch: leader === p.leader ? p.leaderEpoch : p.leaderEpoch + 1 };
}

/** What applyReassignment needs of the metadata state machine. */
export interface ReassignmentHost {
  queued(): readonly ReassignmentTarget[];
  setQueued(moves: ReassignmentTarget[]): void;
  partition(topic: string, partition: number): PartitionRecord | undefined;
  broker(id: number): { fenced: boolean } | undefined;
  moving(): { topic: string; partition: number; record: PartitionRecord }[];
  /** Replaces a partition's record with `change`'s result; the failure when it gives one. */
  update(topic: string, partition: number, change: (p: PartitionRecord) => PartitionRecord | MoveFailure): MoveFailure | null;
  logger: Logger;
}

/** Applies a reassignment command (see the header); null when it succeeded. Deterministic. */
export function applyReassignment(host: ReassignmentHost, c: ReassignmentCommand): MoveFailure | null {
  const live = (id: number) => host.broker(id)?.fenced === false;
  switch (c.type) {
    case 'queue-reassignments': {
      if (host.queued().length > 0 || host.moving().length > 0) return { code: Errors.REASSIGNMENT_IN_PROGRESS.code, message: 'a rebalance is already moving partitions' };
      for (const m of c.moves) {
        if (host.partition(m.topic, m.partition) === undefined) return { code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, message: `no partition ${m.topic}-${m.partition}` };
        const bad = checkTarget(m.replicas, (id) => host.broker(id));
        if (bad !== null) return { code: bad.code, message: `${m.topic}-${m.partition}: ${bad.message}` };
      }
      host.setQueued(c.moves.map((m) => ({ topic: m.topic, partition: m.partition, replicas: [...m.replicas] })));
      return null;
    }
    case 'start-reassignment': {
      const queued = [...host.queued()];
      const at = queued.findIndex((m) => m.topic === c.topic && m.partition === c.partition);
      if (at < 0) return { code: Errors.NO_REASSIGNMENT_IN_PROGRESS.code, message: `no move of ${c.topic}-${c.partition} is queued` };
      const [move] = queued.splice(at, 1);
      const p = host.partition(c.topic, c.partition);
      if (p !== undefined && isMoving(p)) return { code: Errors.REASSIGNMENT_IN_PROGRESS.code, message: `${c.topic}-${c.partition} is already moving` };
      host.setQueued(queued);
      // A target broker fenced since the plan (or the topic deleted): the move is dropped, and a
      // later rebalance plans anew. Dropping it is the command's effect, so it succeeds.
      const bad = p === undefined ? { code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, message: 'the partition is gone' } : checkTarget(move.replicas, (id) => host.broker(id));
      if (bad !== null) {
        host.logger.warn({ topic: c.topic, partition: c.partition, reason: bad.message }, 'a queued move was dropped');
        return null;
      }
      return host.update(c.topic, c.partition, (held) => startMove(held, move.replicas));
    }
    case 'finish-reassignment':
      return host.update(c.topic, c.partition, (p) => finishMove(p, live));
    case 'cancel-reassignments': {
      const moving = host.moving();
      if (host.queued().length === 0 && moving.length === 0) return { code: Errors.NO_REASSIGNMENT_IN_PROGRESS.code, message: 'no rebalance is moving partitions' };
      host.setQueued([]);
      for (const { topic, partition, record } of moving) {
        const back = cancelMove(record, live);
        if (back !== null) host.update(topic, partition, () => back);
        else host.logger.warn({ topic, partition }, 'a move cannot be cancelled: none of the original replicas is in sync any more; it goes on');
      }
      return null;
    }
  }
}
