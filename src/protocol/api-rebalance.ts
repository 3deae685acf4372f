// Rebalance (api key 21): asks the active controller to even out partition replicas (and
// preferred leaders) over the live nodes, so that a node that joined later gets its share; or to
// list or cancel the moves of the rebalance in progress. Any thread; any node forwards it to the
// controller.
//
// A move copies data: the new replicas fetch from the leader until they are in sync, then the
// final replica set is committed, leadership moves if the leader leaves, and the old replicas'
// files are deleted (README "Running a cluster", cluster/metadata/reassignment.ts). At most
// rebalance.max.concurrent.moves partitions move at once; the rest wait in a queue.
//
// Errors: REASSIGNMENT_IN_PROGRESS when a rebalance is still moving partitions (list or cancel
// it), NO_REASSIGNMENT_IN_PROGRESS for a cancel with nothing to cancel, NOT_CONTROLLER while no
// controller is known. Nothing to move is not an error: NONE with no moves and a message.
//
// Fields added without a version bump are optional, so older readers drop what they do not know.

import { errorCode, errorMessage, nodeId, offsetOrNone, partition, topic, topicInResponse } from './fields.js';
import { array, boolean, nonNegativeInt32, oneOf, optional, struct, type Field } from './schema.js';

export interface RebalanceRequest {
  /** Plan only. Absent means false. */
  dryRun?: boolean;
  /** Move only partitions of these topics (all topics still count towards each node's load). */
  topics?: string[];
  /** List the moves in progress and queued, with their progress; moves nothing. */
  list?: boolean;
  /** Cancel the rebalance: queued moves are dropped, moves in progress go back to their old replicas. */
  cancel?: boolean;
}

export interface PartitionMove {
  topic: string;
  partition: number;
  /** The first replica leaving (or the preferred leader giving way, when only the order changes). */
  from: number;
  /** The first replica joining (or the new preferred leader). */
  to: number;
  /** The replicas before the move, preferred leader first. */
  replicas?: number[];
  /** The replicas after it. */
  target?: number[];
}

export interface ReplicaProgress {
  replica: number;
  /** The replica's log end as its leader last saw it; -1 when unknown. */
  logEndOffset: number;
}

export interface ReassignmentProgress {
  topic: string;
  partition: number;
  /** 'queued' (waiting for a free move slot) or 'moving' (new replicas catching up). */
  state: 'queued' | 'moving';
  replicas: number[];
  target: number[];
  adding: number[];
  removing: number[];
  leader: number;
  /** The leader's log end; -1 when unknown (queued, or the leader could not be asked). */
  leaderLogEndOffset: number;
  /** Each adding replica's log end, as the leader saw it. */
  progress: ReplicaProgress[];
}

export interface RebalanceResponse {
  /** NONE, or e.g. NOT_CONTROLLER when no controller is known right now. */
  errorCode: number;
  message?: string;
  moves: PartitionMove[];
  /** Always 0 now (every partition can move); kept for older readers. */
  skipped: number;
  /** For `list`: the moves of the rebalance in progress. */
  reassignments?: ReassignmentProgress[];
}

export const rebalanceRequest: Field<RebalanceRequest> = struct<RebalanceRequest>({ dryRun: optional(boolean), topics: optional(array(topic, 0, 10_000)), list: optional(boolean), cancel: optional(boolean) });

const nodes = array(nodeId, 0, 1024);

export const rebalanceResponse: Field<RebalanceResponse> = struct<RebalanceResponse>({
  errorCode,
  message: errorMessage,
  moves: array(struct<PartitionMove>({ topic: topicInResponse, partition, from: nodeId, to: nodeId, replicas: optional(nodes), target: optional(nodes) })),
  skipped: nonNegativeInt32,
  reassignments: optional(
    array(
      struct<ReassignmentProgress>({
        topic: topicInResponse,
        partition,
        state: oneOf(['queued', 'moving'] as const),
        replicas: nodes,
        target: nodes,
        adding: nodes,
        removing: nodes,
        leader: nodeId,
        leaderLogEndOffset: offsetOrNone,
        progress: array(struct<ReplicaProgress>({ replica: nodeId, logEndOffset: offsetOrNone })),
      }),
    ),
  ),
});
