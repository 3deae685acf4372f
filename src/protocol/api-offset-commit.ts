// OffsetCommit (api key 15): store a group's progress: per partition, the offset of the next
// message to consume. Any thread. One result per partition, in request order.
//
// The commit is written to the group's __consumer_offsets partition before it is answered (durable
// as that log's flush.mode makes it), so a broker restart keeps it. A member of a generation commits
// with its generationId and memberId, and only for partitions assigned to it (else
// PARTITION_NOT_ASSIGNED); generationId -1 with memberId '' commits from outside any generation,
// which only an empty group accepts (the CLI's reset-offsets, a manually assigned consumer).

import { errorCode, errorMessage, offset, partition, topic, topicInResponse } from './fields.js';
import { generationId, groupId, groupInstanceId, memberId } from './group-fields.js';
import { array, optional, string, struct, unique, type Field } from './schema.js';

export interface OffsetCommitPartition {
  topic: string;
  partition: number;
  /** The next offset to consume. */
  offset: number;
  /** Free text kept with the offset (kafkajs's `metadata`). */
  metadata?: string;
}

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string;
  partitions: OffsetCommitPartition[];
}

export interface OffsetCommitResult {
  topic: string;
  partition: number;
  /** NONE, or e.g. ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, PARTITION_NOT_ASSIGNED. */
  errorCode: number;
}

export interface OffsetCommitResponse {
  /** NONE unless the request failed as a whole; then every partition carries the same code. */
  errorCode: number;
  message?: string;
  partitions: OffsetCommitResult[];
}

export const MAX_COMMIT_METADATA_LENGTH = 4096;

export const offsetCommitRequest: Field<OffsetCommitRequest> = struct<OffsetCommitRequest>({
  groupId,
  generationId,
  memberId,
  groupInstanceId: optional(groupInstanceId),
  partitions: unique(
    array(struct<OffsetCommitPartition>({ topic, partition, offset, metadata: optional(string(MAX_COMMIT_METADATA_LENGTH)) }), 1),
    (p) => `${p.topic}/${p.partition}`,
    'topic-partition',
  ),
});

export const offsetCommitResponse: Field<OffsetCommitResponse> = struct<OffsetCommitResponse>({
  errorCode,
  message: errorMessage,
  partitions: array(struct<OffsetCommitResult>({ topic: topicInResponse, partition, errorCode })),
});
