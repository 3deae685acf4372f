// ListOffsets (api key 8): the earliest or latest offset of partitions, or the first offset at or
// after a time. Any thread. One result per requested partition, in request order.

import { errorCode, nodeId, partition, topic, topicInResponse, offsetOrNone, timestampOrNone } from './fields.js';
import { array, integer, optional, struct, unique, type Field } from './schema.js';

/** `timestamp` asking for the log start offset. */
export const EARLIEST_TIMESTAMP = -2;
/** `timestamp` asking for the log end offset (the offset the next record will get). */
export const LATEST_TIMESTAMP = -1;

export interface ListOffsetsPartition {
  topic: string;
  partition: number;
  /** -2 earliest, -1 latest, otherwise ms since the epoch: the first record with a timestamp at or after it. */
  timestamp: number;
}

export interface ListOffsetsRequest {
  partitions: ListOffsetsPartition[];
}

export interface ListedOffset {
  topic: string;
  partition: number;
  /** NONE, or e.g. UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER. */
  errorCode: number;
  /** The offset found; -1 when no record is that recent, or on error. */
  offset: number;
  /** For a lookup by time, the found record's timestamp; -1 for earliest/latest, none found, or error. */
  timestamp: number;
  /** With NOT_LEADER_OR_FOLLOWER: the node that leads the partition (-1: none right now). */
  leaderId?: number;
}

export interface ListOffsetsResponse {
  partitions: ListedOffset[];
}

export const listOffsetsRequest: Field<ListOffsetsRequest> = struct<ListOffsetsRequest>({
  partitions: unique(
    array(
      struct<ListOffsetsPartition>({
        topic,
        partition,
        timestamp: integer(EARLIEST_TIMESTAMP, Number.MAX_SAFE_INTEGER, 'a timestamp in ms, -1 (latest) or -2 (earliest)'),
      }),
      1,
    ),
    (p) => `${p.topic}/${p.partition}`,
    'topic-partition',
  ),
});

export const listOffsetsResponse: Field<ListOffsetsResponse> = struct<ListOffsetsResponse>({
  partitions: array(
    struct<ListedOffset>({ topic: topicInResponse, partition, errorCode, offset: offsetOrNone, timestamp: timestampOrNone, leaderId: optional(nodeId) }),
  ),
});
