// ReplicaFetch (api key 30): a follower broker fetches record sets of the partitions it follows
// from their leader. Any thread; the leader's main thread routes each partition to its owner and
// writes the response head, then the log bytes straight from mapped segments (as Fetch does).
//
// Differences from Fetch (api 7), as Kafka's replica fetch differs from a consumer's:
//   - replicaId names the follower: its fetchOffset is how the leader learns the follower's log
//     end, which moves the high watermark and decides ISR membership;
//   - each partition carries the follower's leaderEpoch: an older epoch than the leader's is
//     FENCED_LEADER_EPOCH (the follower must learn the new leader first), a newer one
//     UNKNOWN_LEADER_EPOCH (the leader has not heard of it yet: retry); a broker that does not lead
//     the partition answers NOT_LEADER_OR_FOLLOWER;
//   - reads go to the leader's log end, not the high watermark (the follower is what moves it).
// The body is the partitions' record sets back to back in header order, `bytes` each, as Fetch.

import { errorCode, nodeId, offset, offsetOrNone, partition, topic, topicInResponse } from './fields.js';
import { array, nonNegativeInt32, positiveInt32, refine, struct, unique, type Field } from './schema.js';

export interface ReplicaFetchPartition {
  topic: string;
  partition: number;
  /** The leader epoch the follower believes current. */
  leaderEpoch: number;
  /** The follower's log end: the first offset it wants. */
  fetchOffset: number;
  maxBytes: number;
}

export interface ReplicaFetchRequest {
  /** The follower's broker id. */
  replicaId: number;
  partitions: ReplicaFetchPartition[];
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
}

export interface ReplicaFetchedPartition {
  topic: string;
  partition: number;
  /** NONE, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE… */
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** The leader's log end after the read. */
  logEndOffset: number;
  bytes: number;
}

export interface ReplicaFetchResponse {
  partitions: ReplicaFetchedPartition[];
}

const replicaId = refine(nodeId, (id) => (id < 0 ? 'a follower must name its broker id (>= 0)' : undefined));

export const replicaFetchRequest: Field<ReplicaFetchRequest> = struct<ReplicaFetchRequest>({
  replicaId,
  partitions: unique(
    array(struct<ReplicaFetchPartition>({ topic, partition, leaderEpoch: nonNegativeInt32, fetchOffset: offset, maxBytes: positiveInt32 }), 1),
    (p) => `${p.topic}/${p.partition}`,
    'topic-partition',
  ),
  maxWaitMs: nonNegativeInt32,
  minBytes: nonNegativeInt32,
  maxBytes: positiveInt32,
});

export const replicaFetchResponse: Field<ReplicaFetchResponse> = struct<ReplicaFetchResponse>({
  partitions: array(
    struct<ReplicaFetchedPartition>({
      topic: topicInResponse,
      partition,
      errorCode,
      highWatermark: offsetOrNone,
      logStartOffset: offsetOrNone,
      logEndOffset: offsetOrNone,
      bytes: nonNegativeInt32,
    }),
  ),
});

/** The body must be exactly the partitions' record sets. */
export function checkReplicaFetchResponseBody(header: ReplicaFetchResponse, bodyLength: number): string | undefined {
  let total = 0;
  for (const p of header.partitions) total += p.bytes;
  return total === bodyLength ? undefined : `partitions' bytes add up to ${total} but the body has ${bodyLength}`;
}

