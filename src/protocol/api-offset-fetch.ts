// OffsetFetch (api key 16): a group's committed offsets. Any thread.
//
// With `partitions` the answer has one entry per requested partition, in request order (offset -1
// for a partition without a commit); without, one per partition the group has a commit for.

import { errorCode, errorMessage, offsetOrNone, partition, timestampOrNone, topic, topicInResponse } from './fields.js';
import { groupId } from './group-fields.js';
import { array, optional, string, struct, unique, type Field } from './schema.js';
import { MAX_COMMIT_METADATA_LENGTH } from './api-offset-commit.js';

export interface OffsetFetchPartition {
  topic: string;
  partition: number;
}

export interface OffsetFetchRequest {
  groupId: string;
  /** Absent: every partition with a commit. */
  partitions?: OffsetFetchPartition[];
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  /** The committed offset, -1 if there is none. */
  offset: number;
  metadata: string;
  /** When it was committed, -1 if there is no commit. */
  commitTimestamp: number;
  errorCode: number;
}

export interface OffsetFetchResponse {
  /** NONE, or e.g. COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR. */
  errorCode: number;
  message?: string;
  partitions: FetchedOffset[];
}

export const offsetFetchRequest: Field<OffsetFetchRequest> = struct<OffsetFetchRequest>({
  groupId,
  partitions: optional(unique(array(struct<OffsetFetchPartition>({ topic, partition })), (p) => `${p.topic}/${p.partition}`, 'topic-partition')),
});

export const offsetFetchResponse: Field<OffsetFetchResponse> = struct<OffsetFetchResponse>({
  errorCode,
  message: errorMessage,
  partitions: array(
    struct<FetchedOffset>({
      topic: topicInResponse,
      partition,
      offset: offsetOrNone,
      metadata: string(MAX_COMMIT_METADATA_LENGTH),
      commitTimestamp: timestampOrNone,
      errorCode,
    }),
  ),
});
