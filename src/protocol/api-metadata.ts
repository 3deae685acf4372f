// Metadata (api key 1): which broker leads each partition, and where the brokers are. Any thread.
// Clients route Produce and Fetch with it and ask again after NOT_LEADER_OR_FOLLOWER or
// UNKNOWN_TOPIC_OR_PARTITION.

import { errorCode, nodeId, partition, topic, topicInResponse } from './fields.js';
import { array, boolean, integer, nonNegativeInt32, optional, positiveInt32, string, struct, unique, type Field } from './schema.js';

export interface MetadataRequest {
  /** Topics to describe; absent (or nil) means every topic. An empty list asks for brokers only. */
  topics?: string[];
}

export interface BrokerMetadata {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionMetadata {
  partition: number;
  /** NONE, or e.g. LEADER_NOT_AVAILABLE. */
  errorCode: number;
  /** Node id of the leader, -1 when there is none. */
  leader: number;
  /** Node ids holding a replica, leader first; absent on a broker without replication. */
  replicas?: number[];
  /** Node ids of the in-sync replicas; absent on a broker without replication. */
  isr?: number[];
}

export interface TopicMetadata {
  name: string;
  /** NONE, or e.g. UNKNOWN_TOPIC_OR_PARTITION for a requested topic that does not exist. */
  errorCode: number;
  /** True for "__" topics. */
  internal: boolean;
  /**
   * The largest record set a Produce to this topic is accepted with: the lesser of its
   * max.message.bytes and segment.bytes. Producers size their batches within it. Absent when the
   * broker does not say (then only max.frame.bytes bounds a batch).
   */
  maxBatchBytes?: number;
  partitions: PartitionMetadata[];
}

export interface MetadataResponse {
  clusterId: string;
  /** Every live broker of the cluster. */
  brokers: BrokerMetadata[];
  /** The requested topics (all of them when none were named), each once. */
  topics: TopicMetadata[];
}

export const metadataRequest: Field<MetadataRequest> = struct<MetadataRequest>({
  topics: optional(unique(array(topic), (name) => name, 'topic')),
});

const nodeIds = array(nonNegativeInt32);

export const metadataResponse: Field<MetadataResponse> = struct<MetadataResponse>({
  clusterId: string(255, 1),
  brokers: array(
    struct<BrokerMetadata>({
      nodeId: nonNegativeInt32,
      host: string(255, 1),
      port: integer(1, 0xffff, 'a TCP port (1..65535)'),
    }),
  ),
  topics: array(
    struct<TopicMetadata>({
      name: topicInResponse,
      errorCode,
      internal: boolean,
      maxBatchBytes: optional(positiveInt32),
      partitions: array(
        struct<PartitionMetadata>({
          partition,
          errorCode,
          leader: nodeId,
          replicas: optional(nodeIds),
          isr: optional(nodeIds),
        }),
      ),
    }),
  ),
});
