// OffsetForLeaderEpoch (api key 31): "where does leader epoch E end in your log?", asked by a
// follower of the partition's leader before it fetches (after a leader change or a restart), so
// that it can truncate the suffix it holds that the leader never had. Any thread.
//
// Semantics are Kafka's OffsetsForLeaderEpoch: for the leader's latest epoch the answer is its log
// end; for an older epoch E it is the start offset of the first epoch after E, together with the
// largest epoch <= E the leader knows; an epoch newer than any it knows gets -1/-1.
// currentLeaderEpoch fences as in ReplicaFetch: older than the leader's is FENCED_LEADER_EPOCH,
// newer is UNKNOWN_LEADER_EPOCH; a broker that does not lead answers NOT_LEADER_OR_FOLLOWER.

import { errorCode, nodeId, partition, topic, topicInResponse } from './fields.js';
import { array, integer, nonNegativeInt32, struct, unique, type Field } from './schema.js';

export interface EpochQuery {
  topic: string;
  partition: number;
  /** The leader epoch the asker believes current (fencing). */
  currentLeaderEpoch: number;
  /** The epoch whose end offset is asked for (the asker's latest). */
  leaderEpoch: number;
}

export interface OffsetForLeaderEpochRequest {
  /** The asking broker's id; -1 for a client. */
  replicaId: number;
  partitions: EpochQuery[];
}

export interface EpochAnswer {
  topic: string;
  partition: number;
  errorCode: number;
  /** The largest epoch <= the one asked for known to the leader, or -1. */
  leaderEpoch: number;
  /** Where that epoch ends in the leader's log, or -1. */
  endOffset: number;
}

export interface OffsetForLeaderEpochResponse {
  partitions: EpochAnswer[];
}

const epochOrNone = integer(-1, 0x7fffffff, 'a leader epoch or -1');
const offsetOrNone = integer(-1, Number.MAX_SAFE_INTEGER, 'an offset or -1');

export const offsetForLeaderEpochRequest: Field<OffsetForLeaderEpochRequest> = struct<OffsetForLeaderEpochRequest>({
  replicaId: nodeId,
  partitions: unique(
    array(struct<EpochQuery>({ topic, partition, currentLeaderEpoch: nonNegativeInt32, leaderEpoch: epochOrNone }), 1),
    (p) => `${p.topic}/${p.partition}`,
    'topic-partition',
  ),
});

export const offsetForLeaderEpochResponse: Field<OffsetForLeaderEpochResponse> = struct<OffsetForLeaderEpochResponse>({
  partitions: array(struct<EpochAnswer>({ topic: topicInResponse, partition, errorCode, leaderEpoch: epochOrNone, endOffset: offsetOrNone })),
});
