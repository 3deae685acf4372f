// DescribeGroups (api key 18): members, their subscriptions and assignments, per group. Any thread.
// One entry per requested group, in request order; an unknown group is GROUP_ID_NOT_FOUND.
// Committed offsets and lag are OffsetFetch's and ListOffsets' business.

import { errorCode, errorMessage } from './fields.js';
import { clientId, generationId, groupId, groupInstanceId, groupState, memberId, subscription, topicPartitionsList, type Subscription, type TopicPartitions } from './group-fields.js';
import { array, nonNegativeInt32, optional, string, struct, unique, type Field } from './schema.js';

export interface DescribeGroupsRequest {
  groups: string[];
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId?: string;
  clientId: string;
  /** Where the member connects from, as the broker sees it. */
  clientHost: string;
  sessionTimeoutMs: number;
  subscription: Subscription;
  assignment: TopicPartitions[];
}

export interface DescribedGroup {
  groupId: string;
  errorCode: number;
  message?: string;
  /** 'Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable' or 'Dead'. */
  state: string;
  protocolType: string;
  /** The assignor of the current generation; '' while there is none. */
  protocolName: string;
  generationId: number;
  leader: string;
  members: DescribedMember[];
}

export interface DescribeGroupsResponse {
  groups: DescribedGroup[];
}

export const describeGroupsRequest: Field<DescribeGroupsRequest> = struct<DescribeGroupsRequest>({
  groups: unique(array(groupId, 1), (g) => g, 'group'),
});

export const describeGroupsResponse: Field<DescribeGroupsResponse> = struct<DescribeGroupsResponse>({
  groups: array(
    struct<DescribedGroup>({
      groupId,
      errorCode,
      message: errorMessage,
      state: groupState,
      protocolType: string(255),
      protocolName: string(255),
      generationId,
      leader: memberId,
      members: array(
        struct<DescribedMember>({
          memberId,
          groupInstanceId: optional(groupInstanceId),
          clientId,
          clientHost: string(255),
          sessionTimeoutMs: nonNegativeInt32,
          subscription,
          assignment: topicPartitionsList,
        }),
      ),
    }),
  ),
});
