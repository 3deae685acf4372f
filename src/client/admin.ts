// The admin client: create, grow, delete, list and describe topics, and look up offsets. Application
// thread. Shaped like kafkajs's admin (createTopics resolves false when every topic already
// existed; other per-topic errors throw), over the shared Cluster's connections.
//
// Consumer-group tools (list, describe, offsets with lag, resets, delete) are admin-groups.ts.
//
// Topic management goes to any broker (with one node, the node; in a cluster, the broker forwards
// it to the controller). Offset lookups go to each partition's leader (list-offsets.ts). Requests
// are retried with the retry policy when the failure is retriable (a lost connection, a leader
// that moved); a failure that retrying cannot fix (an invalid topic name, a bad config) throws at
// once.

import { Errors } from '../errors.js';
import { ApiKeys, type ApiKey, type PartitionDescription as ProtocolPartitionDescription, type RequestHeaders, type ResponseOf } from '../protocol/index.js';
import { type Cluster } from './cluster.js';
import { RillDisconnectedError, errorFromCode } from './errors.js';
import { EARLIEST, LATEST, listOffsets, type OffsetAnswer, type OffsetQuery } from './list-offsets.js';
import * as groups from './admin-groups.js';
import type { GroupAdminContext, GroupDescription, GroupListing, OffsetChange, PartitionLag, ResetOffsetsOptions } from './admin-groups.js';

export interface CreatePartitionsOptions {
  /** Check only; change nothing. */
  validateOnly?: boolean;
  /** How long the broker may take to make the new partitions ready. */
  timeoutMs?: number;
}

export interface CreateTopicsOptions {
  topics: { topic: string; numPartitions?: number; replicationFactor?: number; configs?: Record<string, string> }[];
  validateOnly?: boolean;
  /** How long the broker may take to make the topics ready. */
  timeoutMs?: number;
}

/** A partition as describeTopics() reports it (the protocol's description less its error code). */
export type PartitionDescription = Omit<ProtocolPartitionDescription, 'errorCode'>;

export interface TopicDescription {
  name: string;
  internal: boolean;
  /** Differs between a topic and an earlier one of the same name (absent for topics from before topic ids). */
  topicId?: string;
  configs: Record<string, string>;
  partitions: PartitionDescription[];
}

export interface PartitionOffsets {
  partition: number;
  /** The high watermark: where a new consumer reading "latest" starts. */
  offset: number;
  low: number;
  high: number;
}

export class Admin {
  private readonly cluster: Cluster;
  private connected = false;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.cluster.acquire();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    this.cluster.release();
  }

  /** Creates topics; false when every one of them already existed. Any other error throws. */
  async createTopics(options: CreateTopicsOptions): Promise<boolean> {
    const timeoutMs = options.timeoutMs;
    const response = await this.callController(
      ApiKeys.CreateTopics,
      {
        topics: options.topics.map((t) => ({ name: t.topic, partitions: t.numPartitions, replicationFactor: t.replicationFactor, configs: t.configs })),
        validateOnly: options.validateOnly,
        timeoutMs,
      },
      timeoutMs,
    );
    let created = false;
    for (const result of response.header.topics) {
      if (result.errorCode === 0) created = true;
      else if (result.errorCode !== Errors.TOPIC_ALREADY_EXISTS.code) throw errorFromCode(result.errorCode, result.message ?? `creating topic ${result.name} failed`, { topic: result.name });
    }
    return created;
  }

  /**
   * Grows topics to `count` partitions each (Kafka's CreatePartitions; kafkajs's
   * createPartitions). The first topic that failed throws (e.g. INVALID_PARTITIONS for a count not
   * above the current one); the others were still changed. Existing partitions keep their data,
   * but the default partitioner maps keys over the new count, as in Kafka.
   */
  async createPartitions(topics: { topic: string; count: number }[], options: CreatePartitionsOptions = {}): Promise<void> {
    const response = await this.callController(
      ApiKeys.CreatePartitions,
      { topics: topics.map((t) => ({ name: t.topic, count: t.count })), validateOnly: options.validateOnly, timeoutMs: options.timeoutMs },
      options.timeoutMs,
    );
    if (options.validateOnly !== true) this.cluster.requestRefresh();
    for (const result of response.header.topics) {
      if (result.errorCode !== 0) throw errorFromCode(result.errorCode, result.message ?? `adding partitions to topic ${result.name} failed`, { topic: result.name });
    }
  }

  async deleteTopics(options: { topics: string[]; timeoutMs?: number }): Promise<void> {
    const response = await this.callController(ApiKeys.DeleteTopics, { topics: options.topics, timeoutMs: options.timeoutMs }, options.timeoutMs);
    for (const result of response.header.topics) {
      if (result.errorCode !== 0) throw errorFromCode(result.errorCode, result.message ?? `deleting topic ${result.name} failed`, { topic: result.name });
    }
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const response = await this.call(ApiKeys.ListTopics, { includeInternal: options.includeInternal });
    return response.header.topics.map((t) => t.name);
  }

  /** Throws the first topic's error (e.g. UNKNOWN_TOPIC_OR_PARTITION) if any topic could not be described. */
  async describeTopics(options: { topics: string[] }): Promise<TopicDescription[]> {
    const response = await this.call(ApiKeys.DescribeTopics, { topics: options.topics });
    return response.header.topics.map((t) => {
      if (t.errorCode !== 0) throw errorFromCode(t.errorCode, t.message ?? `describing topic ${t.name} failed`, { topic: t.name });
      return {
        name: t.name,
        internal: t.internal,
        topicId: t.topicId,
        configs: t.configs,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          leader: p.leader,
          logStartOffset: p.logStartOffset,
          logEndOffset: p.logEndOffset,
          highWatermark: p.highWatermark,
          sizeBytes: p.sizeBytes,
          ...(p.replicas === undefined ? {} : { replicas: p.replicas }),
          ...(p.isr === undefined ? {} : { isr: p.isr }),
        })),
      };
    });
  }

  /** Each partition's earliest (low) and latest (high) offset, kafkajs's shape. */
  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const partitions = await this.partitionsOf(topic);
    const answers = await this.listOffsets(partitions.flatMap((partition) => [
      { topic, partition, timestamp: EARLIEST },
      { topic, partition, timestamp: LATEST },
    ]));
    return partitions.map((partition, i) => {
      const low = answers[2 * i].offset;
      const high = answers[2 * i + 1].offset;
      return { partition, offset: high, low, high };
    });
  }

  /**
   * Per partition, the first offset whose record's timestamp is at or after `timestampMs`; where
   * no record is that recent, the latest offset (as kafkajs answers).
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestampMs: number): Promise<{ partition: number; offset: number }[]> {
    const partitions = await this.partitionsOf(topic);
    const found = await this.listOffsets(partitions.map((partition) => ({ topic, partition, timestamp: timestampMs })));
    const missing = found.filter((a) => a.offset < 0).map((a) => ({ topic, partition: a.partition, timestamp: LATEST }));
    const latest = new Map((await this.listOffsets(missing)).map((a) => [a.partition, a.offset]));
    return found.map((a) => ({ partition: a.partition, offset: a.offset < 0 ? latest.get(a.partition)! : a.offset }));
  }

  /** ListOffsets as it is: timestamp -2 earliest, -1 latest, else ms; offset -1 where none. */
  async listOffsets(partitions: OffsetQuery[]): Promise<OffsetAnswer[]> {
    this.checkConnected();
    return listOffsets(this.cluster, partitions);
  }

  // --- consumer groups (admin-groups.ts) ------------------------------------------------------------

  private get groupContext(): GroupAdminContext {
    return { cluster: this.cluster, checkConnected: () => this.checkConnected() };
  }

  listGroups(options: { states?: string[] } = {}): Promise<GroupListing[]> {
    return groups.listGroups(this.groupContext, options);
  }

  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return groups.describeGroups(this.groupContext, groupIds);
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return (await groups.describeGroups(this.groupContext, [groupId]))[0];
  }

  /** Committed offset, log end offset and lag per partition (see admin-groups.ts). */
  fetchOffsets(options: { groupId: string; topics?: string[] }): Promise<PartitionLag[]> {
    return groups.fetchOffsets(this.groupContext, options);
  }

  resetOffsets(options: ResetOffsetsOptions): Promise<OffsetChange[]> {
    return groups.resetOffsets(this.groupContext, options);
  }

  setOffsets(options: { groupId: string; topic: string; partitions: { partition: number; offset: number; metadata?: string }[] }): Promise<void> {
    return groups.setOffsets(this.groupContext, options);
  }

  deleteGroups(groupIds: string[]): Promise<void> {
    return groups.deleteGroups(this.groupContext, groupIds);
  }

  private async partitionsOf(topic: string): Promise<number[]> {
    this.checkConnected();
    await this.cluster.ensureTopics([topic]);
    return this.cluster.topic(topic)!.partitions.map((p) => p.partition);
  }

  private checkConnected(): void {
    if (!this.connected) throw new RillDisconnectedError('the admin is not connected: call admin.connect() first');
  }

  /**
   * A topic change, retried while every topic of it failed with NOT_CONTROLLER: no controller was
   * known (an election in a cluster), so nothing was done and the request can be sent again.
   * Mixed answers are returned as they are (some topics may have been changed).
   */
  private callController<K extends typeof ApiKeys.CreateTopics | typeof ApiKeys.CreatePartitions | typeof ApiKeys.DeleteTopics>(apiKey: K, header: RequestHeaders[K], brokerTimeoutMs?: number): Promise<ResponseOf<K>> {
    return this.cluster.retry.run(async () => {
      const response = await this.call(apiKey, header, brokerTimeoutMs);
      const topics = (response.header as { topics: { errorCode: number; message?: string }[] }).topics;
      if (topics.length > 0 && topics.every((t) => t.errorCode === Errors.NOT_CONTROLLER.code)) throw errorFromCode(Errors.NOT_CONTROLLER.code, topics[0].message ?? 'no active controller', {});
      return response;
    });
  }

  /** One request to any broker, retried while the failure is retriable. */
  private call<K extends ApiKey>(apiKey: K, header: RequestHeaders[K], brokerTimeoutMs?: number): Promise<ResponseOf<K>> {
    this.checkConnected();
    const timeoutMs = this.cluster.requestTimeoutMs + (brokerTimeoutMs ?? 0);
    return this.cluster.retry.run(async () => {
      if (!this.connected) throw new RillDisconnectedError('the admin was disconnected');
      const connection = await this.cluster.anyConnection();
      return connection.request(apiKey, header, undefined, timeoutMs);
    });
  }
}

