// The slice of the Rill client (src/client) that the CLI uses, as an interface. Main thread.
//
// The commands are written against this rather than the client class, so that (1) what the CLI
// needs from the client is written down in one place, and the compiler checks that the real client
// provides it (client-options.ts passes a real Rill where a CliClient is expected), and (2) unit
// tests can drive the commands with a small fake and no broker.

import type { GroupMemberDescription, PartitionLag } from '../client/admin-groups.js';
import type { StartOffset } from './option-parsers.js';

export interface CliClientConfig {
  brokers: string[];
  clientId?: string;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: { retries?: number; initialRetryTimeMs?: number; maxRetryTimeMs?: number };
}

export interface CliClient {
  admin(): CliAdmin;
  producer(config?: CliProducerConfig): CliProducer;
  consumer(config?: CliConsumerConfig): CliConsumer;
  close(): Promise<void>;
}

export type ClientFactory = (config: CliClientConfig) => CliClient;

export interface CliPartitionDescription {
  partition: number;
  leader: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  sizeBytes: number;
  /** In a cluster: the replicas (preferred leader first) and the in-sync ones. */
  replicas?: number[];
  isr?: number[];
}

export interface CliTopicDescription {
  name: string;
  internal: boolean;
  /** Absent for topics from before topic ids. */
  topicId?: string;
  configs: Record<string, string>;
  partitions: CliPartitionDescription[];
}

export interface CliAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** false when the topic already existed. */
  createTopics(request: { topics: { topic: string; numPartitions?: number; configs?: Record<string, string> }[] }): Promise<boolean>;
  /** Grows topics; throws the first topic's error (INVALID_PARTITIONS, UNKNOWN_TOPIC_OR_PARTITION, ...). */
  createPartitions(topics: { topic: string; count: number }[], options?: { validateOnly?: boolean }): Promise<void>;
  deleteTopics(request: { topics: string[] }): Promise<unknown>;
  listTopics(options?: { includeInternal?: boolean }): Promise<string[]>;
  /** Throws a topic's error (e.g. UNKNOWN_TOPIC_OR_PARTITION) rather than returning it. */
  describeTopics(request: { topics: string[] }): Promise<CliTopicDescription[]>;
  /** Each partition's first (low) and next (high) offset, by ListOffsets. */
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: number; high: number }[]>;
  // Consumer groups (src/client/admin-groups.ts).
  listGroups(options?: { states?: string[] }): Promise<CliGroupListing[]>;
  /** Throws GROUP_ID_NOT_FOUND for a group that does not exist. */
  describeGroup(groupId: string): Promise<CliGroupDescription>;
  fetchOffsets(options: { groupId: string; topics?: string[] }): Promise<CliPartitionLag[]>;
  /** Throws NON_EMPTY_GROUP while the group has members. */
  resetOffsets(options: { groupId: string; topic: string; partitions?: number[]; target: CliResetTarget; dryRun?: boolean }): Promise<CliOffsetChange[]>;
  deleteGroups(groupIds: string[]): Promise<void>;
}

export interface CliGroupListing {
  groupId: string;
  protocolType: string;
  state: string;
}

/** The parts of a group member the CLI shows (the client's GroupMemberDescription has more). */
export type CliGroupMember = Pick<GroupMemberDescription, 'memberId' | 'groupInstanceId' | 'clientId' | 'clientHost' | 'assignment'>;

export interface CliGroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  generationId: number;
  leader: string;
  members: CliGroupMember[];
}

export type CliPartitionLag = Pick<PartitionLag, 'topic' | 'partition' | 'committedOffset' | 'logEndOffset' | 'lag'>;

export type CliResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'offset'; offset: number } | { to: 'timestamp'; timestamp: number };

export interface CliOffsetChange {
  topic: string;
  partition: number;
  currentOffset: number;
  newOffset: number;
}

export interface CliProducerConfig {
  idempotent?: boolean;
  acks?: 0 | 1;
}

export interface CliProducerMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
  partition?: number;
}

export interface CliProducer {
  connect(): Promise<void>;
  send(request: { topic: string; messages: CliProducerMessage[]; acks?: 0 | 1 }): Promise<unknown>;
  disconnect(): Promise<void>;
}

export interface CliConsumerConfig {
  maxWaitMs?: number;
}

export interface CliFetchedMessage {
  offset: number | string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | null | undefined>;
  timestamp: number | string;
}

export interface CliFetchedBatch {
  topic: string;
  partition: number;
  highWatermark: number | string;
  messages: CliFetchedMessage[];
}

export interface CliConsumer extends AsyncIterable<CliFetchedBatch> {
  connect(): Promise<void>;
  assign(partitions: { topic: string; partition: number }[]): void | Promise<void>;
  seek(position: { topic: string; partition: number; offset: StartOffset }): void | Promise<void>;
  stop(): void | Promise<void>;
  disconnect(): Promise<void>;
}
