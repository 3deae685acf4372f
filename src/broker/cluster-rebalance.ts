// The Rebalance API (21) on the active controller: plan, start, list and cancel partition moves.
// Main thread. cluster-admin.ts forwards the request here once it knows this node is the
// controller; the moves themselves are driven by the controller's reconcile loop
// (cluster/metadata/reassignment-steps.ts) from what the metadata holds, so they carry on
// through a change of controller.

import { Errors } from '../errors.js';
import { type Logger } from '../logger.js';
import { NO_LEADER, type ClusterNode } from '../cluster/index.js';
import { isrOf } from '../cluster/metadata/leader-election.js';
import { planReassignment, type PlannedMove } from '../cluster/metadata/reassignment-planner.js';
import { isMoving, originalReplicas, targetReplicas } from '../cluster/metadata/reassignment.js';
import { ApiKeys, type PartitionMove, type ReassignmentProgress, type RebalanceRequest, type RebalanceResponse } from '../protocol/index.js';
import { peerRequest } from './peer-request.js';

export interface RebalanceContext {
  node: ClusterNode;
  logger: Logger;
  timeoutMs: number;
  maxFrameBytes: number;
}

export async function rebalanceOnController(ctx: RebalanceContext, request: RebalanceRequest): Promise<RebalanceResponse> {
  const state = ctx.node.state;
  if (request.list === true) return { errorCode: 0, moves: [], skipped: 0, reassignments: await progress(ctx) };
  if (request.cancel === true) {
    const result = await ctx.node.submit({ type: 'cancel-reassignments' });
    if (!result.ok) return { errorCode: result.code, message: result.message, moves: [], skipped: 0 };
    ctx.logger.info('rebalance cancelled');
    return { errorCode: 0, message: 'cancelled: queued moves dropped, moves in progress rolled back', moves: [], skipped: 0 };
  }
  const busy = state.queuedReassignments().length + state.movingPartitions().length;
  if (busy > 0) {
    return { errorCode: Errors.REASSIGNMENT_IN_PROGRESS.code, message: `a rebalance is still moving ${busy} partition(s): see rill cluster reassignments, or cancel it with rill cluster rebalance --cancel`, moves: [], skipped: 0 };
  }
  const live = state.brokers().filter((b) => !b.fenced);
  const liveIds = new Set(live.map((b) => b.id));
  const chosen = request.topics === undefined ? null : new Set(request.topics);
  const unknown = request.topics?.find((name) => state.topic(name) === undefined);
  if (unknown !== undefined) return { errorCode: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, message: `no topic ${unknown}`, moves: [], skipped: 0 };
  const planned = planReassignment(
    live,
    state.topics().flatMap((t) =>
      t.partitions.map((p, partition) => ({ topic: t.name, partition, replicas: p.replicas, movable: (chosen === null || chosen.has(t.name)) && p.leader !== NO_LEADER && !isMoving(p) && p.replicas.every((r) => liveIds.has(r)) })),
    ),
  );
  const moves = planned.map(describeMove);
  if (moves.length === 0) return { errorCode: 0, message: 'nothing to move: replicas and preferred leaders are even over the live nodes', moves, skipped: 0 };
  if (request.dryRun === true) return { errorCode: 0, moves, skipped: 0 };
  const result = await ctx.node.submit({ type: 'queue-reassignments', moves: planned.map((m) => ({ topic: m.topic, partition: m.partition, replicas: m.target })) });
  if (!result.ok) return { errorCode: result.code, message: result.message, moves: [], skipped: 0 };
  ctx.logger.info({ moves: moves.length }, 'rebalance started');
  return { errorCode: 0, moves, skipped: 0 };
}

function describeMove(m: PlannedMove): PartitionMove {
  const from = m.replicas.find((r) => !m.target.includes(r)) ?? m.replicas[0];
  const to = m.target.find((r) => !m.replicas.includes(r)) ?? m.target[0];
  return { topic: m.topic, partition: m.partition, from, to, replicas: m.replicas, target: m.target };
}

/** The moves in progress (with each new replica's log end against its leader's) and the queued ones. */
async function progress(ctx: RebalanceContext): Promise<ReassignmentProgress[]> {
  const state = ctx.node.state;
  const moving = state.movingPartitions();
  // One DescribeTopics (localOnly) per leader: the leader knows each follower's log end.
  const ends = new Map<string, { leader: number; followers: Map<number, number> }>();
  const byLeader = new Map<number, Set<string>>();
  for (const m of moving) if (m.record.leader !== NO_LEADER) byLeader.set(m.record.leader, (byLeader.get(m.record.leader) ?? new Set()).add(m.topic));
  await Promise.all(
    [...byLeader].map(async ([leader, topics]) => {
      const address = ctx.node.brokerAddress(leader);
      if (address === undefined) return;
      try {
        const answer = await peerRequest(address, ApiKeys.DescribeTopics, { topics: [...topics], localOnly: true }, { timeoutMs: ctx.timeoutMs, maxFrameBytes: ctx.maxFrameBytes });
        for (const t of answer.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0 || p.leader !== leader) continue;
            ends.set(`${t.name}/${p.partition}`, { leader: p.logEndOffset, followers: new Map((p.replicaLogEndOffsets ?? []).map((f) => [f.replica, f.logEndOffset])) });
          }
        }
      } catch (error) {
        ctx.logger.warn({ leader, err: error }, 'could not ask a leader for its followers\' progress');
      }
    }),
  );
  const out: ReassignmentProgress[] = moving.map(({ topic, partition, record }) => {
    const seen = ends.get(`${topic}/${partition}`);
    const adding = [...(record.addingReplicas ?? [])];
    const isr = isrOf(record);
    return {
      topic,
      partition,
      state: 'moving',
      replicas: originalReplicas(record),
      target: targetReplicas(record),
      adding,
      removing: [...(record.removingReplicas ?? [])],
      leader: record.leader,
      leaderLogEndOffset: seen?.leader ?? -1,
      // An adding replica already in the ISR has everything the leader had when it joined.
      progress: adding.map((replica) => ({ replica, logEndOffset: seen?.followers.get(replica) ?? (isr.includes(replica) ? (seen?.leader ?? -1) : -1) })),
    };
  });
  for (const q of state.queuedReassignments()) {
    const p = state.topic(q.topic)?.partitions[q.partition];
    if (p === undefined) continue;
    out.push({ topic: q.topic, partition: q.partition, state: 'queued', replicas: [...p.replicas], target: [...q.replicas], adding: q.replicas.filter((r) => !p.replicas.includes(r)), removing: p.replicas.filter((r) => !q.replicas.includes(r)), leader: p.leader, leaderLogEndOffset: -1, progress: [] });
  }
  return out;
}
