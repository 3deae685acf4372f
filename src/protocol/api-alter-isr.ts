// AlterIsr (api key 32): a partition leader asks the active controller to change the partition's
// in-sync replica set (Kafka's AlterPartition). Any thread; the controller's main thread applies it
// as the 'alter-isr' metadata command through Raft.
//
// The controller refuses a leader that is not the current one or not in the current leader epoch
// (FENCED_LEADER_EPOCH), an ISR naming a non-replica or a fenced broker as a new member
// (NOT_IN_ISR), and answers NOT_CONTROLLER from any other node. On success and on refusal alike the
// answer carries the ISR the metadata now holds, so the leader adopts it.

import { errorCode, errorMessage, nodeId, partition, topic, topicInResponse } from './fields.js';
import { array, nonNegativeInt32, struct, type Field } from './schema.js';

export interface AlterIsrRequest {
  topic: string;
  partition: number;
  /** The asking leader's broker id. */
  leader: number;
  leaderEpoch: number;
  /** The ISR wanted, leader included. */
  isr: number[];
}

export interface AlterIsrResponse {
  topic: string;
  partition: number;
  errorCode: number;
  message?: string;
  /** The ISR the metadata holds after the request (empty when the partition is unknown). */
  isr: number[];
}

export const alterIsrRequest: Field<AlterIsrRequest> = struct<AlterIsrRequest>({
  topic,
  partition,
  leader: nonNegativeInt32,
  leaderEpoch: nonNegativeInt32,
  isr: array(nonNegativeInt32, 1, 1024),
});

export const alterIsrResponse: Field<AlterIsrResponse> = struct<AlterIsrResponse>({
  topic: topicInResponse,
  partition,
  errorCode,
  message: errorMessage,
  isr: array(nodeId, 0, 1024),
});
