// What the HTTP routes work with: the same admin layer, placement, owner router and segment
// mappings the binary connections use, so that HTTP has no second path to the logs. Main thread.

import { type Admin } from '../broker/admin.js';
import { type BrokerConfig } from '../broker/config.js';
import { type OwnerRouter } from '../broker/owner-router.js';
import { type PartitionPlacement } from '../broker/partition-placement.js';
import { type SegmentMappings } from '../broker/segment-mappings.js';
import { type TopicMetadata, type TopicRegistry } from '../broker/topic-registry.js';
import { type Logger } from '../logger.js';
import { type BrokerMetrics } from './metrics.js';
import { type LongPollLimiter } from './long-poll-limiter.js';
import { unknownPartition, unknownTopic } from './http-errors.js';

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
  /** Whether every partition is open and recovered, and if not, why. */
  readiness(): { ready: boolean; reason?: string };
}

/** The topic, or UNKNOWN_TOPIC_OR_PARTITION (404). */
export function requireTopic(ctx: HttpContext, name: string): TopicMetadata {
  const topic = ctx.registry.get(name);
  if (topic === undefined) throw unknownTopic(name);
  return topic;
}

/** The worker owning a partition, or UNKNOWN_TOPIC_OR_PARTITION (404) for a partition out of range. */
export function requireOwner(ctx: HttpContext, topic: TopicMetadata, partition: number): number {
  const slot = partition < topic.partitions ? ctx.placement.owner(topic.name, partition) : undefined;
  if (slot === undefined) throw unknownPartition(topic.name, partition, topic.partitions);
  return slot;
}
