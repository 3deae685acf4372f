// Fetch (api key 7): read record sets from several partitions at once. Any thread; the broker's
// main thread writes the response head and then the log bytes straight from mapped segments.
//
// The response header lists one entry per requested partition, in request order, each carrying
// `bytes`: how many bytes of the body are its record set. The body is those record sets back to
// back in the same order, so the body's length is the sum of the entries' bytes. A record set holds
// whole RecordBatch v2 batches; as with Kafka, a client ignores a trailing partial batch should one
// ever appear.
//
// Limits: a partition's maxBytes and the request's maxBytes are soft — the first batch of the first
// partition with data is returned whole even if it is larger, so a consumer always makes progress —
// but the response never exceeds the client's max.frame.bytes: a client sets maxBytes below it.

import { errorCode, nodeId, offset, offsetOrNone, partition, topic, topicInResponse } from './fields.js';
import { array, nonNegativeInt32, optional, positiveInt32, struct, unique, type Field } from './schema.js';

export interface FetchPartition {
  topic: string;
  partition: number;
  /** First offset wanted. */
  offset: number;
  /** Soft limit of bytes for this partition. */
  maxBytes: number;
}

export interface FetchRequest {
  partitions: FetchPartition[];
  /** How long the broker may wait for minBytes to accumulate. */
  maxWaitMs: number;
  /** Answer as soon as this many bytes are available (0: at once). */
  minBytes: number;
  /** Soft limit of bytes for the whole response body. */
  maxBytes: number;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  /** NONE, or e.g. OFFSET_OUT_OF_RANGE, NOT_LEADER_OR_FOLLOWER (bytes is then 0). */
  errorCode: number;
  /** Offset up to which records are committed; -1 on error. */
  highWatermark: number;
  /** First offset still in the log; -1 on error. */
  logStartOffset: number;
  /** Offset below which no transaction is open; absent while Rill has no transactions. */
  lastStableOffset?: number;
  /** With NOT_LEADER_OR_FOLLOWER: the node that leads the partition (-1: none right now). */
  leaderId?: number;
  /** Bytes of this partition's record set in the body. */
  bytes: number;
}

export interface FetchResponse {
  partitions: FetchedPartition[];
}

export const fetchRequest: Field<FetchRequest> = struct<FetchRequest>({
  partitions: unique(
    array(struct<FetchPartition>({ topic, partition, offset, maxBytes: positiveInt32 }), 1),
    (p) => `${p.topic}/${p.partition}`,
    'topic-partition',
  ),
  maxWaitMs: nonNegativeInt32,
  minBytes: nonNegativeInt32,
  maxBytes: positiveInt32,
});

export const fetchResponse: Field<FetchResponse> = struct<FetchResponse>({
  partitions: array(
    struct<FetchedPartition>({
      topic: topicInResponse,
      partition,
      errorCode,
      highWatermark: offsetOrNone,
      logStartOffset: offsetOrNone,
      lastStableOffset: optional(offsetOrNone),
      leaderId: optional(nodeId),
      bytes: nonNegativeInt32,
    }),
  ),
});

/** The body must be exactly the partitions' record sets. */
export function checkFetchResponseBody(header: FetchResponse, bodyLength: number): string | undefined {
  let total = 0;
  for (const p of header.partitions) total += p.bytes;
  return total === bodyLength ? undefined : `partitions' bytes add up to ${total} but the body has ${bodyLength}`;
}

/** Views of each partition's record set in a Fetch response body, in header order. */
export function fetchRecordSets(header: FetchResponse, body: Uint8Array): Uint8Array[] {
  const sets = new Array<Uint8Array>(header.partitions.length);
  let at = 0;
  for (let i = 0; i < header.partitions.length; i++) {
    const end = at + header.partitions[i].bytes;
    sets[i] = body.subarray(at, end);
    at = end;
  }
  return sets;
}
