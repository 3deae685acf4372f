// Public face of the binary protocol: frame layout, the incremental frame reader, frame codecs, the
// API table with its message types, and topic name rules. No I/O; any thread.

export * as FrameLayout from './frame-layout.js';
export { DEFAULT_MAX_FRAME_BYTES, NO_API_KEY, NO_CORRELATION_ID } from './frame-layout.js';
export { FrameReader } from './frame-reader.js';
export type { FrameReaderOptions, FrameReadResult } from './frame-reader.js';
export {
  decodeRequest,
  decodeResponse,
  encodeErrorResponse,
  encodeProtocolError,
  encodeRequest,
  encodeRequestHead,
  encodeResponse,
  encodeResponseHead,
  peekRequest,
  responseCorrelationId,
} from './frames.js';
export type { DecodedRequest, DecodedResponse, ErrorResponse, RequestHead, RequestOf, ResponseOf } from './frames.js';
export { isProtocolError } from './protocol-error.js';
export type { ProtocolError } from './protocol-error.js';
export {
  API_TABLE,
  ApiKeys,
  apiName,
  apiSpec,
  expectsResponse,
  isApiKey,
  supportedApis,
  validateRequestHeader,
  validateResponseHeader,
} from './apis.js';
export type { ApiKey, ApiSpec, ApiVersionSpec, BodyKind, RequestHeaders, ResponseHeaders } from './apis.js';
export type { ErrorHeader } from './error-header.js';
export { negotiateVersions } from './api-hello.js';
export type { ApiVersionRange, HelloRequest, HelloResponse } from './api-hello.js';
export type { BrokerMetadata, MetadataRequest, MetadataResponse, PartitionMetadata, TopicMetadata } from './api-metadata.js';
export type { CreateTopicResult, CreateTopicsRequest, CreateTopicsResponse, NewTopic } from './api-create-topics.js';
export type { CreatePartitionsRequest, CreatePartitionsResponse, CreatePartitionsResult, PartitionsIncrease } from './api-create-partitions.js';
export type { DeleteTopicResult, DeleteTopicsRequest, DeleteTopicsResponse } from './api-delete-topics.js';
export type { ListedTopic, ListTopicsRequest, ListTopicsResponse } from './api-list-topics.js';
export type { DescribeTopicsRequest, DescribeTopicsResponse, PartitionDescription, TopicDescription } from './api-describe-topics.js';
export type { ProduceRequest, ProduceResponse } from './api-produce.js';
export { fetchRecordSets } from './api-fetch.js';
export type { FetchedPartition, FetchPartition, FetchRequest, FetchResponse } from './api-fetch.js';
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from './api-list-offsets.js';
export type { ListedOffset, ListOffsetsPartition, ListOffsetsRequest, ListOffsetsResponse } from './api-list-offsets.js';
export { MAX_PRODUCER_EPOCH } from './api-init-producer-id.js';
export type { InitProducerIdRequest, InitProducerIdResponse } from './api-init-producer-id.js';
export {
  assertValidTopicName,
  collisionKey,
  INTERNAL_TOPIC_PREFIX,
  isInternalTopicName,
  isValidTopicName,
  MAX_TOPIC_NAME_LENGTH,
  topicNameProblem,
} from './topic-name.js';
export type { TopicNameRules } from './topic-name.js';
export { MAX_GROUP_ID_LENGTH } from './group-fields.js';
export type { Subscription, TopicPartitions } from './group-fields.js';
export type { FindCoordinatorRequest, FindCoordinatorResponse } from './api-find-coordinator.js';
export { MAX_SESSION_TIMEOUT_MS, MIN_SESSION_TIMEOUT_MS } from './api-join-group.js';
export type { JoinGroupMember, JoinGroupProtocol, JoinGroupRequest, JoinGroupResponse } from './api-join-group.js';
export type { MemberAssignment, SyncGroupRequest, SyncGroupResponse } from './api-sync-group.js';
export type { HeartbeatRequest, HeartbeatResponse } from './api-heartbeat.js';
export type { LeaveGroupRequest, LeaveGroupResponse, LeavingMember, LeftMember } from './api-leave-group.js';
export { MAX_COMMIT_METADATA_LENGTH } from './api-offset-commit.js';
export type { OffsetCommitPartition, OffsetCommitRequest, OffsetCommitResponse, OffsetCommitResult } from './api-offset-commit.js';
export type { FetchedOffset, OffsetFetchPartition, OffsetFetchRequest, OffsetFetchResponse } from './api-offset-fetch.js';
export type { ListedGroup, ListGroupsRequest, ListGroupsResponse } from './api-list-groups.js';
export type { DescribedGroup, DescribedMember, DescribeGroupsRequest, DescribeGroupsResponse } from './api-describe-groups.js';
export type { DeletedGroup, DeleteGroupsRequest, DeleteGroupsResponse } from './api-delete-groups.js';
export type { ClusterBrokerStatus, ClusterMemberStatus, ClusterPartitionStatus, ClusterStatusRequest, ClusterStatusResponse } from './api-cluster-status.js';
export type { PartitionMove, ReassignmentProgress, RebalanceRequest, RebalanceResponse, ReplicaProgress } from './api-rebalance.js';
export type { ReplicaFetchPartition, ReplicaFetchRequest, ReplicaFetchedPartition, ReplicaFetchResponse } from './api-replica-fetch.js';
export type { EpochAnswer, EpochQuery, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './api-offset-for-leader-epoch.js';
export type { AlterIsrRequest, AlterIsrResponse } from './api-alter-isr.js';
