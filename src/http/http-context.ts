// What the HTTP routes work with: the same admin layer, placement, owner router and segment
// mappings the binary connections use, so that HTTP has no second path to the logs. Main thread.

import { type Admin } from '../broker/admin.js';
import { type BrokerConfig } from '../broker/config.js';
import { type OwnerRouter } from '../broker/owner-router.js';
import { type PartitionPlacement } from '../broker/partition-placement.js';
import { type SegmentMappings } from '../broker/segment-mappings.js';
import { type TopicMetadata, type TopicRegistry } from '../broker/topic-registry.js';
import { RillError, type ErrorSpec } from '../errors.js';
import { type Logger } from '../logger.js';
import { type BrokerMetrics } from './metrics.js';
import { type LongPollLimiter } from './long-poll-limiter.js';
import { unknownPartition, unknownTopic } from './http-errors.js';

/** In a cluster: who leads a partition, and where that node's HTTP API is. */
export interface ClusterRouting {
  /** null when this node leads the partition and serves it; otherwise why not, and who does. */
  leaderCheck(topic: string, partition: number): { spec: ErrorSpec; message: string; leaderId: number } | null;
  /** "http://host:port" of a node's HTTP API, if known. */
  httpUrlOf(nodeId: number): string | undefined;
}

export interface HttpContext {
  config: BrokerConfig;
  admin: Admin;
  registry: TopicRegistry;
  placement: PartitionPlacement;
  router: OwnerRouter;
  mappings: SegmentMappings;
  metrics: BrokerMetrics;
  longPolls: LongPollLimiter;
  logger: Logger;
  /** "host:port" of this broker's binary listener, for the HTTP group members' loopback client. */
  brokerAddress(): string;
  /** The cluster's routing; null on a single node (and before the node has joined). */
  cluster(): ClusterRouting | null;
  /** Whether every partition is open and recovered, and if not, why. */
  readiness(): { ready: boolean; reason?: string };
}

/** The topic, or UNKNOWN_TOPIC_OR_PARTITION (404). */
export function requireTopic(ctx: HttpContext, name: string): TopicMetadata {
  const topic = ctx.registry.get(name);
  if (topic === undefined) throw unknownTopic(name);
  return topic;
}

/**
 * The worker owning a partition, or UNKNOWN_TOPIC_OR_PARTITION (404) for a partition out of range.
 * In a cluster, a partition another node leads is NOT_LEADER_OR_FOLLOWER (421) whose details name
 * the leader and its HTTP URL (`leaderUrl`), which the server turns into a 307 redirect there.
 */
export function requireOwner(ctx: HttpContext, topic: TopicMetadata, partition: number): number {
  const miss = partition < topic.partitions ? ctx.cluster()?.leaderCheck(topic.name, partition) : undefined;
  if (miss !== undefined && miss !== null) {
    const leaderUrl = miss.leaderId >= 0 ? ctx.cluster()?.httpUrlOf(miss.leaderId) : undefined;
    throw new RillError(miss.spec, miss.message, { topic: topic.name, partition, leaderId: miss.leaderId, ...(leaderUrl === undefined ? {} : { leaderUrl }) });
  }
  const slot = partition < topic.partitions ? ctx.placement.owner(topic.name, partition) : undefined;
  if (slot === undefined) throw unknownPartition(topic.name, partition, topic.partitions);
  return slot;
}
