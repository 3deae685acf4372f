// Produce (api key 6): append a record set to ONE topic-partition. Any thread; the main thread
// routes on topic and partition without reading the body.
//
// The body is the record set: whole Kafka RecordBatch v2 batches back to back (the storage layer
// checks them). One partition per frame keeps routing a lookup: the frame goes to the one worker
// that owns the partition, as is, and a client producing to several partitions pipelines several
// frames on the connection.
//
// acks: 1 = answer once the leader has appended; 0 = never answer. With acks 0 the broker sends no
// response frame at all, success or failure, and the client registers no pending request for the
// correlation id (see expectsResponse in apis.ts); a failed acks-0 append makes the broker close the
// connection, as Kafka does, so the producer learns to refresh its metadata. Errors found while
// decoding the frame (before acks could be trusted) are still answered.

import { errorCode, errorMessage, nodeId, offsetOrNone, partition, timeoutMs, timestampOrNone, topicInResponse, userTopic } from './fields.js';
import { oneOf, optional, struct, type Field } from './schema.js';

export interface ProduceRequest {
  /** Not an internal ("__") topic. */
  topic: string;
  partition: number;
  /**
   * 0: no response; 1: respond when the leader has appended; -1 (all): respond when every in-sync
   * replica has it (the high watermark passed it), or NOT_ENOUGH_REPLICAS(_AFTER_APPEND) /
   * REQUEST_TIMED_OUT (after timeoutMs). On a partition without replication, -1 is answered as 1.
   */
  acks: 0 | 1 | -1;
  /** How long the broker may take before answering REQUEST_TIMED_OUT. */
  timeoutMs: number;
}

export interface ProduceResponse {
  topic: string;
  partition: number;
  /** NONE, or e.g. NOT_LEADER_OR_FOLLOWER, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD. */
  errorCode: number;
  message?: string;
  /** With NOT_LEADER_OR_FOLLOWER: the node that leads the partition (-1: none right now). */
  leaderId?: number;
  /** Offset given to the first record of the set; -1 on error. */
  baseOffset: number;
  /** The broker's append time when the topic uses LogAppendTime; -1 (CreateTime) otherwise. */
  logAppendTime: number;
  /** The partition's first offset after the append; -1 on error. */
  logStartOffset: number;
}

export const produceRequest: Field<ProduceRequest> = struct<ProduceRequest>({
  topic: userTopic,
  partition,
  acks: oneOf([0, 1, -1] as const),
  timeoutMs,
});

export const produceResponse: Field<ProduceResponse> = struct<ProduceResponse>({
  topic: topicInResponse,
  partition,
  errorCode,
  message: errorMessage,
  leaderId: optional(nodeId),
  baseOffset: offsetOrNone,
  logAppendTime: timestampOrNone,
  logStartOffset: offsetOrNone,
});
