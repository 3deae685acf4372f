// Rebalance (api key 21): asks the active controller to even out partitions over the live nodes
// (a node that joined later gets its share). Any thread; any node forwards it to the controller.
//
// With replication factor 1 a move cannot copy data (replication is issue 8), so the controller
// moves only partitions whose log is empty (log end offset 0 on their leader): partitions that
// hold records stay where they are and are counted in `skipped`. dryRun plans without moving.

import { errorCode, errorMessage, nodeId, partition, topicInResponse } from './fields.js';
import { array, boolean, nonNegativeInt32, optional, struct, type Field } from './schema.js';

export interface RebalanceRequest {
  /** Plan only. Absent means false. */
  dryRun?: boolean;
}

export interface PartitionMove {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

export interface RebalanceResponse {
  /** NONE, or e.g. NOT_CONTROLLER when no controller is known right now. */
  errorCode: number;
  message?: string;
  moves: PartitionMove[];
  /** Partitions that would have moved but hold records. */
  skipped: number;
}

export const rebalanceRequest: Field<RebalanceRequest> = struct<RebalanceRequest>({ dryRun: optional(boolean) });

export const rebalanceResponse: Field<RebalanceResponse> = struct<RebalanceResponse>({
  errorCode,
  message: errorMessage,
  moves: array(struct<PartitionMove>({ topic: topicInResponse, partition, from: nodeId, to: nodeId })),
  skipped: nonNegativeInt32,
});
