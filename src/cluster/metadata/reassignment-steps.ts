// What the active controller proposes next for a rebalance in progress (reassignment.ts). Main
// thread (the controller's reconcile loop); a pure function of the applied metadata, so a new
// controller taking over mid-rebalance carries on from the metadata alone.
//
// Moves whose adding replicas are all in the ISR are finished; queued moves start while fewer than
// `maxConcurrentMoves` are in progress (rebalance.max.concurrent.moves), so a rebalance copies a
// bounded number of partitions at a time rather than every partition at once.

import { isrOf } from './leader-election.js';
import type { MetadataState } from './metadata-state.js';
import type { ReassignmentCommand } from './reassignment.js';

export const DEFAULT_MAX_CONCURRENT_MOVES = 2;

export type ReassignmentStep = Extract<ReassignmentCommand, { type: 'start-reassignment' | 'finish-reassignment' }>;

export function reassignmentSteps(state: MetadataState, maxConcurrentMoves: number): ReassignmentStep[] {
  const steps: ReassignmentStep[] = [];
  const moving = state.movingPartitions();
  for (const { topic, partition, record } of moving) {
    const isr = isrOf(record);
    if ((record.addingReplicas ?? []).every((r) => isr.includes(r))) steps.push({ type: 'finish-reassignment', topic, partition });
  }
  const room = Math.max(0, maxConcurrentMoves - moving.length);
  for (const { topic, partition } of state.queuedReassignments().slice(0, room)) steps.push({ type: 'start-reassignment', topic, partition });
  return steps;
}
