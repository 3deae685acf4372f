// Growing an internal topic (__consumer_offsets) to the replication factor it was meant to have.
// Main thread (the active controller's reconcile loop); a pure function of the applied metadata.
//
// Why: Kafka does not create __consumer_offsets until offsets.topic.replication.factor brokers
// are up. Rill creates it with min(that, live brokers), so that a one- or two-node cluster has
// consumer groups at all (cluster-node.ts). A cluster whose nodes started one after another
// would then keep fewer copies of its group offsets than it asked for, for good. Once more
// brokers are live, this plans the missing replicas as one reassignment (reassignment.ts): each
// partition keeps its replicas and gains the live brokers holding the fewest replicas. Where the
// topic's preferred leaders sit unevenly (all on the first nodes), a new copy goes first in some
// partitions, so that they end within one of even, as placement would have put them: the group
// coordinators then spread over the nodes too. The new copies catch up like any reassignment
// before they count, and leadership moves only to an in-sync copy.

import type { MetadataState } from './metadata-state.js';
import type { ReassignmentTarget } from './reassignment.js';

/**
 * The reassignment that brings `topic` to min(`wanted`, live brokers) replicas per partition, or
 * null: nothing to add, or a reassignment is already queued or moving (one at a time).
 */
export function internalTopicGrowth(state: MetadataState, topic: string, wanted: number): ReassignmentTarget[] | null {
  const record = state.topic(topic);
  if (record === undefined) return null;
  if (state.queuedReassignments().length > 0 || state.movingPartitions().length > 0) return null;
  const live = state.brokers().filter((b) => !b.fenced).map((b) => b.id);
  const target = Math.min(wanted, live.length);
  if (record.partitions.every((p) => p.replicas.length >= target)) return null;

  // Replicas per live broker over every topic, updated as this plan adds some: spread the new copies.
  const load = new Map<number, number>(live.map((id) => [id, 0]));
  for (const t of state.topics()) for (const p of t.partitions) for (const r of p.replicas) if (load.has(r)) load.set(r, load.get(r)! + 1);
  const planned: { move: ReassignmentTarget; added: number[] }[] = [];
  record.partitions.forEach((p, partition) => {
    if (p.replicas.length >= target) return;
    const added: number[] = [];
    while (p.replicas.length + added.length < target) {
      const next = live.filter((id) => !p.replicas.includes(id) && !added.includes(id)).sort((a, b) => load.get(a)! - load.get(b)! || a - b)[0];
      if (next === undefined) break;
      added.push(next);
      load.set(next, load.get(next)! + 1);
    }
    planned.push({ move: { topic, partition, replicas: [...p.replicas, ...added] }, added });
  });
  spreadLeaders(record.partitions.map((p) => p.replicas[0]), planned, live);
  return planned.length === 0 ? null : planned.map((p) => p.move);
}

/** Puts a new copy first where that evens the topic's preferred leaders (`leaders`: by partition). */
function spreadLeaders(leaders: readonly number[], planned: { move: ReassignmentTarget; added: number[] }[], live: readonly number[]): void {
  const count = new Map<number, number>(live.map((id) => [id, 0]));
  for (const id of leaders) if (count.has(id)) count.set(id, count.get(id)! + 1);
  for (const { move, added } of planned) {
    const leader = move.replicas[0];
    const best = [...added].sort((a, b) => count.get(a)! - count.get(b)! || a - b)[0];
    if (best === undefined || (count.get(leader) ?? 0) - count.get(best)! < 2) continue;
    move.replicas = [best, ...move.replicas.filter((id) => id !== best)];
    if (count.has(leader)) count.set(leader, count.get(leader)! - 1);
    count.set(best, count.get(best)! + 1);
  }
}
