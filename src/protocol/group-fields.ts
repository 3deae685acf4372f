// Field checks shared by the consumer-group APIs (keys 10 to 19): group ids, member ids,
// generations, and lists of topic-partitions. Any thread.

import { Errors } from '../errors.js';
import { topic } from './fields.js';
import { array, integer, nonNegativeInt32, show, string, struct, unique, Violation, type Field } from './schema.js';

/** Kafka allows any non-empty string; 255 characters keep log lines and record keys small. */
export const MAX_GROUP_ID_LENGTH = 255;

/** A group id: 1..255 characters; anything else is INVALID_GROUP_ID, not INVALID_REQUEST. */
export const groupId: Field<string> = (value) => {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_GROUP_ID_LENGTH) {
    throw new Violation(`must be a group id (1..${MAX_GROUP_ID_LENGTH} characters), got ${show(value)}`, Errors.INVALID_GROUP_ID);
  }
  return value;
};

/** A member id the coordinator handed out, or '' for a member joining for the first time. */
export const memberId = string(255);
/** A static member's stable name (groupInstanceId): survives restarts of the member process. */
export const groupInstanceId = string(255, 1);
/** A generation, or -1 for a commit from outside any generation (a standalone or admin commit). */
export const generationId = integer(-1, 0x7fff_ffff, 'a generation id (-1 or a non-negative int32)');
export const protocolName = string(255, 1);
export const protocolType = string(255, 1);
export const clientId = string(255);
export const groupState = string(64);

/** One topic's partitions: the unit of subscriptions' owned partitions and of assignments. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export const topicPartitions: Field<TopicPartitions> = struct<TopicPartitions>({
  topic,
  partitions: unique(array(nonNegativeInt32), (p) => String(p), 'partition'),
});

/** A list of TopicPartitions that names each topic once. */
export const topicPartitionsList: Field<TopicPartitions[]> = unique(array(topicPartitions), (t) => t.topic, 'topic');

/** What a member subscribes to, and (for cooperative rebalancing) what it owns now. */
export interface Subscription {
  topics: string[];
  /** The partitions the member holds and keeps consuming while the group rebalances. */
  ownedPartitions: TopicPartitions[];
}

export const subscription: Field<Subscription> = struct<Subscription>({
  topics: unique(array(topic), (t) => t, 'topic'),
  ownedPartitions: topicPartitionsList,
});
