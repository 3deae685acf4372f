// SyncGroup (api key 12): after JoinGroup, every member asks for its assignment; the leader's
// request carries everyone's. Any thread.
//
// Assignments are structured (topics and partitions, not opaque bytes) so that the coordinator can
// check them — no partition given to two members, only members of the generation named — and can
// refuse commits for partitions a member does not own. A member that is not the leader sends no
// assignments (NOT_GROUP_LEADER if it does). The answer waits for the leader's SyncGroup.

import { errorCode, errorMessage } from './fields.js';
import { generationId, groupId, groupInstanceId, memberId, topicPartitionsList, type TopicPartitions } from './group-fields.js';
import { array, optional, string, struct, unique, type Field } from './schema.js';

export interface MemberAssignment {
  memberId: string;
  partitions: TopicPartitions[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string;
  /** The leader only: one entry per member (members left out get nothing). */
  assignments?: MemberAssignment[];
}

export interface SyncGroupResponse {
  /** NONE, or e.g. REBALANCE_IN_PROGRESS (join again), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, INVALID_ASSIGNMENT. */
  errorCode: number;
  message?: string;
  /** The protocol of the generation; '' on error. */
  protocolName: string;
  /** This member's partitions; empty on error. */
  assignment: TopicPartitions[];
}

export const memberAssignment: Field<MemberAssignment> = struct<MemberAssignment>({ memberId: string(255, 1), partitions: topicPartitionsList });

export const syncGroupRequest: Field<SyncGroupRequest> = struct<SyncGroupRequest>({
  groupId,
  generationId,
  memberId,
  groupInstanceId: optional(groupInstanceId),
  assignments: optional(unique(array(memberAssignment), (a) => a.memberId, 'memberId')),
});

export const syncGroupResponse: Field<SyncGroupResponse> = struct<SyncGroupResponse>({
  errorCode,
  message: errorMessage,
  protocolName: string(255),
  assignment: topicPartitionsList,
});
