// The metadata and administration APIs: Hello, Metadata, CreateTopics, CreatePartitions,
// DeleteTopics, ListTopics and DescribeTopics. Main thread: answered from the topic registry and the placement, with
// control tasks to the owners where partitions are opened, closed or measured.
//
// Per-topic failures are answered per topic (a request for three topics can create two); only a
// request the protocol layer rejected fails as a whole.

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Errors, RillError } from '../errors.js';
import { type Logger } from '../logger.js';
import {
  MAX_PRODUCER_EPOCH,
  isInternalTopicName,
  supportedApis,
  type ClusterStatusResponse,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreateTopicsRequest,
  type RebalanceRequest,
  type RebalanceResponse,
  type CreateTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type DescribeTopicsRequest,
  type DescribeTopicsResponse,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type HelloResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
  type ListTopicsRequest,
  type ListTopicsResponse,
  type MetadataRequest,
  type MetadataResponse,
  type PartitionDescription,
} from '../protocol/index.js';
import { logConfigToProperties } from '../storage/index.js';
import { type SlotPool } from '../threads/slot-pool.js';
import { type BrokerConfig } from './config.js';
import { type ClusterAdmin } from './cluster-admin.js';
import { OFFSETS_TOPIC } from './groups/coordinator-partition.js';
import { type PartitionSpec, type PartitionStatus } from './partition-host.js';
import { type PartitionPlacement } from './partition-placement.js';
import { type ProducerIds } from './producer-ids.js';
import { logShareOf } from './replication/replication-configs.js';
import { type TopicMetadata, type TopicRegistry } from './topic-registry.js';

export interface NodeIdentity {
  clusterId: string;
  nodeId: number;
}

/** Reads <data>/meta/node.json, creating it (with a new cluster id) on first start. */
export function loadIdentity(dataDir: string, nodeId: number): NodeIdentity {
  const dir = join(dataDir, 'meta');
  const path = join(dir, 'node.json');
  mkdirSync(dir, { recursive: true });
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as NodeIdentity;
    if (stored.nodeId !== nodeId) {
      throw new RillError(Errors.INVALID_CONFIG, `data dir ${dataDir} belongs to node ${stored.nodeId}, not node ${nodeId}`);
    }
    return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const identity = { clusterId: randomUUID(), nodeId };
  writeFileSync(path, JSON.stringify(identity) + '\n');
  return identity;
}

export interface AdminContext {
  config: BrokerConfig;
  identity: NodeIdentity;
  registry: TopicRegistry;
  placement: PartitionPlacement;
  pool: SlotPool;
  producerIds: ProducerIds;
  logger: Logger;
  /** The port the binary listener is bound to (0 in the config picks one). */
  port(): number;
}

function failure(error: unknown, logger: Logger): { errorCode: number; message: string } {
  if (error instanceof RillError) return { errorCode: error.code, message: error.message };
  logger.error({ err: error }, 'admin request failed');
  return { errorCode: Errors.UNKNOWN_SERVER_ERROR.code, message: String((error as Error)?.message ?? error) };
}

export class Admin {
  private readonly ctx: AdminContext;
  /** Set once the broker has joined its cluster: the cluster-wide answers (cluster-admin.ts). */
  private cluster: ClusterAdmin | null = null;

  constructor(ctx: AdminContext) {
    this.ctx = ctx;
  }

  /** From now on metadata and topic changes are the cluster's. */
  joinCluster(cluster: ClusterAdmin): void {
    this.cluster = cluster;
  }

  get clustered(): ClusterAdmin | null {
    return this.cluster;
  }

  initProducerId(request: InitProducerIdRequest): InitProducerIdResponse {
    if (this.cluster !== null) return clusterProducerId(this.ctx.producerIds, this.ctx.identity.nodeId, request);
    return this.ctx.producerIds.initProducerId(request);
  }

  /**
   * The coordinator of a group: this node, as the leader of the group's __consumer_offsets
   * partition (`partition`). With a cluster, the partition's leader, wherever it is.
   */
  findCoordinator(_request: FindCoordinatorRequest, partition: number): FindCoordinatorResponse {
    if (this.cluster !== null) return this.cluster.findCoordinator(OFFSETS_TOPIC, partition);
    const { identity, config } = this.ctx;
    return { errorCode: 0, nodeId: identity.nodeId, host: config.host, port: this.port(), partition };
  }

  private port(): number {
    return this.ctx.port();
  }

  hello(): HelloResponse {
    const { identity, config } = this.ctx;
    return { nodeId: identity.nodeId, clusterId: this.cluster === null ? identity.clusterId : config.clusterId, apis: supportedApis(), authMechanisms: [], maxFrameBytes: config.maxFrameBytes };
  }

  metadata(request: MetadataRequest): MetadataResponse {
    if (this.cluster !== null) return this.cluster.metadata(request);
    const { registry, identity, config } = this.ctx;
    const names = request.topics ?? registry.list().map((t) => t.name);
    return {
      clusterId: identity.clusterId,
      brokers: [{ nodeId: identity.nodeId, host: config.host, port: this.ctx.port() }],
      topics: names.map((name) => {
        const topic = registry.get(name);
        if (topic === undefined) return { name, errorCode: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, internal: isInternalTopicName(name), partitions: [] };
        const log = registry.logConfig(topic);
        return {
          name,
          errorCode: 0,
          internal: isInternalTopicName(name),
          maxBatchBytes: Math.min(log.maxMessageBytes, log.segmentBytes),
          partitions: Array.from({ length: topic.partitions }, (_, partition) => ({
            partition,
            errorCode: 0,
            leader: identity.nodeId,
            replicas: [identity.nodeId],
            isr: [identity.nodeId],
          })),
        };
      }),
    };
  }

  /** ClusterStatus: the cluster's view, or this node alone when it runs single-node. */
  clusterStatus(): ClusterStatusResponse {
    if (this.cluster !== null) return this.cluster.clusterStatus();
    const { identity, config, registry } = this.ctx;
    const ports = { broker: this.port(), http: 0 };
    return {
      errorCode: 0,
      nodeId: identity.nodeId,
      clusterId: identity.clusterId,
      controllerId: -1,
      controllerTerm: 0,
      raftRole: 'none',
      voters: [],
      metadataVersion: 0,
      members: [{ id: identity.nodeId, state: 'alive', address: '', host: config.host, ports, incarnation: 0, load: {} }],
      brokers: [{ id: identity.nodeId, host: config.host, port: this.port(), fenced: false }],
      partitions: registry.list().flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition, replicas: [identity.nodeId], leader: identity.nodeId, leaderEpoch: 0 }))),
      drops: {},
    };
  }

  /** Rebalance: the controller's; a single node has nothing to move. */
  rebalance(request: RebalanceRequest): Promise<RebalanceResponse> {
    if (this.cluster !== null) return this.cluster.rebalance(request);
    return Promise.resolve({ errorCode: 0, message: 'a single node has nothing to rebalance', moves: [], skipped: 0 });
  }

  /** Opens the partitions of a topic from `first` on (all of them by default) on their owners. */
  async openPartitions(topic: TopicMetadata, first = 0): Promise<void> {
    const config = this.ctx.registry.logConfig(topic);
    const specs: PartitionSpec[] = Array.from({ length: topic.partitions - first }, (_, i) => ({
      topic: topic.name,
      partition: first + i,
      dir: this.ctx.registry.partitionDir(topic.name, first + i),
      config,
    }));
    const { bySlot } = this.ctx.placement.groupByOwner(specs);
    await Promise.all([...bySlot].map(([slot, partitions]) => this.ctx.pool.run(slot, { op: 'open', partitions })));
  }

  async createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    if (this.cluster !== null) return this.cluster.createTopics(request);
    const { registry, placement, config, logger } = this.ctx;
    const topics = [];
    for (const wanted of request.topics) {
      const partitions = wanted.partitions ?? config.defaultPartitions;
      try {
        if ((wanted.replicationFactor ?? 1) !== 1) {
          throw new RillError(Errors.INVALID_REPLICATION_FACTOR, `replication factor ${wanted.replicationFactor} needs ${wanted.replicationFactor} nodes; this cluster has 1`);
        }
        if (request.validateOnly) {
          registry.validate(wanted.name, partitions, wanted.configs ?? {});
        } else {
          const topic = registry.create(wanted.name, partitions, wanted.configs ?? {});
          placement.place(topic.name, topic.partitions);
          await this.openPartitions(topic);
        }
        topics.push({ name: wanted.name, errorCode: 0, partitions, replicationFactor: 1 });
      } catch (error) {
        topics.push({ name: wanted.name, ...failure(error, logger) });
      }
    }
    return { topics };
  }

  /**
   * CreatePartitions: grows topics. The registry is written first (durably), then the new
   * partitions are placed on the least loaded workers and opened there; a crash in between leaves
   * the new count in topic.json, and the next start opens every partition it lists.
   */
  async createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    if (this.cluster !== null) return this.cluster.createPartitions(request);
    const { registry, placement, logger } = this.ctx;
    const topics = [];
    for (const wanted of request.topics) {
      try {
        if (request.validateOnly) {
          registry.validateGrowth(wanted.name, wanted.count);
        } else {
          const before = registry.require(wanted.name).partitions;
          const topic = registry.grow(wanted.name, wanted.count);
          for (let partition = before; partition < topic.partitions; partition++) placement.assign(topic.name, partition);
          await this.openPartitions(topic, before);
        }
        topics.push({ name: wanted.name, errorCode: 0, partitions: wanted.count });
      } catch (error) {
        topics.push({ name: wanted.name, ...failure(error, logger) });
      }
    }
    return { topics };
  }

  async deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    if (this.cluster !== null) return this.cluster.deleteTopics(request);
    const { registry, placement, pool, logger } = this.ctx;
    const topics = [];
    for (const name of request.topics) {
      try {
        const topic = registry.require(name);
        const { bySlot } = placement.groupByOwner(Array.from({ length: topic.partitions }, (_, partition) => ({ topic: name, partition })));
        await Promise.all([...bySlot].map(([slot, partitions]) => pool.run(slot, { op: 'close', partitions })));
        placement.remove(name);
        registry.delete(name).catch((error) => logger.error({ topic: name, err: error }, 'removing a deleted topic\'s files failed'));
        topics.push({ name, errorCode: 0 });
      } catch (error) {
        topics.push({ name, ...failure(error, logger) });
      }
    }
    return { topics };
  }

  listTopics(request: ListTopicsRequest): ListTopicsResponse {
    if (this.cluster !== null) return this.cluster.listTopics(request);
    return {
      topics: this.ctx.registry
        .list()
        .filter((t) => request.includeInternal === true || !isInternalTopicName(t.name))
        .map((t) => ({ name: t.name, partitions: t.partitions, internal: isInternalTopicName(t.name) })),
    };
  }

  async describeTopics(request: DescribeTopicsRequest): Promise<DescribeTopicsResponse> {
    const { registry, pool, identity, logger } = this.ctx;
    const stats = new Map<string, PartitionStatus>();
    // A worker that cannot answer (it died and its replacement is still recovering) leaves its
    // partitions without a status, which they report as LEADER_NOT_AVAILABLE (retriable); the
    // other partitions are described as usual.
    const all = await Promise.allSettled(Array.from({ length: pool.size }, (_, slot) => pool.run<PartitionStatus[]>(slot, { op: 'stats' })));
    all.forEach((result, slot) => {
      if (result.status === 'rejected') logger.warn({ slot, err: result.reason }, 'a worker did not answer its stats for DescribeTopics');
      else for (const status of result.value) stats.set(`${status.topic}/${status.partition}`, status);
    });
    const answer: DescribeTopicsResponse = {
      topics: request.topics.map((name) => {
        const topic = this.cluster === null ? registry.get(name) : this.cluster.topicMetadata(name);
        if (topic === undefined) {
          return { name, errorCode: Errors.UNKNOWN_TOPIC_OR_PARTITION.code, message: `topic '${name}' does not exist`, internal: isInternalTopicName(name), configs: {}, partitions: [] };
        }
        const logShare = this.cluster === null ? topic : { ...topic, config: logShareOf(topic.config as Record<string, string>) };
        const configs = Object.fromEntries(Object.entries(logConfigToProperties(registry.logConfig(logShare))).map(([k, v]) => [k, String(v)]));
        if (this.cluster !== null) Object.assign(configs, this.cluster.replicationConfigs(name));
        const partitions: PartitionDescription[] = Array.from({ length: topic.partitions }, (_, partition) => {
          const status = stats.get(`${name}/${partition}`);
          const placement = this.cluster?.replicasOf(name, partition) ?? {};
          if (status !== undefined && this.cluster !== null && status.replication?.role === 'leader') {
            // Led here: the log's figures, and the high watermark the ISR has reached.
            return { partition, errorCode: 0, leader: identity.nodeId, logStartOffset: status.logStartOffset, logEndOffset: status.logEndOffset, highWatermark: status.replication.highWatermark, sizeBytes: status.size, ...placement, ...(status.replication.followers === undefined ? {} : { replicaLogEndOffsets: status.replication.followers }) };
          }
          if (this.cluster !== null) {
            // Described by its leader; this node only knows who that is (and holds a follower's copy at most).
            const leader = this.cluster.leaderOf(name, partition);
            const errorCode = leader === identity.nodeId ? Errors.LEADER_NOT_AVAILABLE.code : Errors.NOT_LEADER_OR_FOLLOWER.code;
            return { partition, errorCode, leader, logStartOffset: -1, logEndOffset: -1, highWatermark: -1, sizeBytes: 0, ...placement };
          }
          if (status === undefined) {
            logger.warn({ topic: name, partition }, 'partition has no live owner');
            return { partition, errorCode: Errors.LEADER_NOT_AVAILABLE.code, leader: -1, logStartOffset: -1, logEndOffset: -1, highWatermark: -1, sizeBytes: 0 };
          }
          return {
            partition,
            errorCode: 0,
            leader: identity.nodeId,
            logStartOffset: status.logStartOffset,
            logEndOffset: status.logEndOffset,
            highWatermark: status.logEndOffset,
            sizeBytes: status.size,
          };
        });
        return { name, errorCode: 0, internal: isInternalTopicName(name), topicId: topic.id, configs, partitions };
      }),
    };
    if (this.cluster !== null && request.localOnly !== true) await this.cluster.fillFromLeaders(answer);
    return answer;
  }
}

/**
 * Producer ids in a cluster: every node hands out ids from its own durable blocks, so the ids are
 * striped by node — local id * CLUSTER_NODE_STRIDE + node id — and no two nodes can give out the
 * same one without asking anybody. An epoch bump for an id of another node (the producer's
 * coordinator moved) is granted as asked; only this node's own ids are checked against its blocks.
 */
export const CLUSTER_NODE_STRIDE = 65_536;

function clusterProducerId(ids: ProducerIds, nodeId: number, request: InitProducerIdRequest): InitProducerIdResponse {
  const { producerId, producerEpoch } = request;
  if (producerId !== undefined && producerEpoch !== undefined && producerId % CLUSTER_NODE_STRIDE !== nodeId) {
    if (producerEpoch < MAX_PRODUCER_EPOCH) return { errorCode: 0, producerId, producerEpoch: producerEpoch + 1 };
    return clusterProducerId(ids, nodeId, {});
  }
  const local = ids.initProducerId({
    ...request,
    ...(producerId === undefined ? {} : { producerId: Math.floor(producerId / CLUSTER_NODE_STRIDE) }),
  });
  if (local.errorCode !== 0) return local;
  return { ...local, producerId: local.producerId * CLUSTER_NODE_STRIDE + nodeId };
}
