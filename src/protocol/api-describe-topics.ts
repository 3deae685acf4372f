// DescribeTopics (api key 5): partitions with their offsets and sizes, and the effective configs.
// Any thread. One entry per requested topic, in request order.

import { configs, errorCode, errorMessage, nodeId, offsetOrNone, partition, topic, topicInResponse } from './fields.js';
import { array, boolean, integer, optional, string, struct, unique, type Field } from './schema.js';

export interface DescribeTopicsRequest {
  topics: string[];
  /**
   * Only what this node leads (a cluster): how the node a client asked gathers the figures of
   * partitions led elsewhere from their leaders, without those asking on in turn.
   */
  localOnly?: boolean;
}

export interface PartitionDescription {
  partition: number;
  /** NONE, or why the numbers below are -1 (e.g. the leader could not be asked). */
  errorCode: number;
  /** Node id of the leader, -1 when there is none. */
  leader: number;
  /** First offset still in the log; -1 on error. */
  logStartOffset: number;
  /** Offset the next appended record will get; -1 on error. */
  logEndOffset: number;
  /** Offset up to which records are committed and visible to consumers; -1 on error. */
  highWatermark: number;
  /** Bytes of the partition's segments on disk; -1 on error. */
  sizeBytes: number;
  /** Brokers holding a copy, preferred leader first (a cluster; absent on a single node). */
  replicas?: number[];
  /** In-sync replicas per the metadata (a cluster; absent on a single node). */
  isr?: number[];
  /** The leader's view of each follower: its log end as of its last fetch, -1 before any (a cluster). */
  replicaLogEndOffsets?: ReplicaLogEnd[];
}

export interface ReplicaLogEnd {
  replica: number;
  logEndOffset: number;
}

export interface TopicDescription {
  name: string;
  /** NONE, or e.g. UNKNOWN_TOPIC_OR_PARTITION (partitions and configs are then empty). */
  errorCode: number;
  message?: string;
  internal: boolean;
  /**
   * The topic's id (Kafka's topicId): differs between a topic and an earlier one of the same name.
   * Absent for an unknown topic and for topics from before topic ids.
   */
  topicId?: string;
  /** Effective topic configs: overrides merged over broker defaults, all values as strings. */
  configs: Record<string, string>;
  partitions: PartitionDescription[];
}

export interface DescribeTopicsResponse {
  topics: TopicDescription[];
}

export const describeTopicsRequest: Field<DescribeTopicsRequest> = struct<DescribeTopicsRequest>({
  topics: unique(array(topic, 1), (name) => name, 'topic'),
  localOnly: optional(boolean),
});

const sizeOrNone = integer(-1, Number.MAX_SAFE_INTEGER, 'a size in bytes or -1');

export const describeTopicsResponse: Field<DescribeTopicsResponse> = struct<DescribeTopicsResponse>({
  topics: array(
    struct<TopicDescription>({
      name: topicInResponse,
      errorCode,
      message: errorMessage,
      internal: boolean,
      topicId: optional(string(255, 1)),
      configs,
      partitions: array(
        struct<PartitionDescription>({
          partition,
          errorCode,
          leader: nodeId,
          logStartOffset: offsetOrNone,
          logEndOffset: offsetOrNone,
          highWatermark: offsetOrNone,
          sizeBytes: sizeOrNone,
          // Added without a version bump: optional, and older readers drop fields they do not know.
          replicas: optional(array(nodeId, 0, 1024)),
          isr: optional(array(nodeId, 0, 1024)),
          replicaLogEndOffsets: optional(array(struct<ReplicaLogEnd>({ replica: nodeId, logEndOffset: offsetOrNone }), 0, 1024)),
        }),
      ),
    }),
  ),
});
