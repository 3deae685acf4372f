// What an HTTP group member is to the routes: one consumer-group member that an HTTP-only client
// drives by requests (subscribe, poll, commit, leave) instead of by a loop of its own. Main thread.
//
// The routes and the registry work with this interface only; client-member-session.ts implements
// it over the client library's group consumer, connected to this broker's own binary listener, as
// the Confluent REST proxy runs a Kafka consumer per instance. Tests drive the routes with a fake.

import { type DecodedRecord } from '../../storage/index.js';

export type OffsetResetPolicy = 'earliest' | 'latest';

export interface MemberSettings {
  groupId: string;
  /** The member's name, unique in its group on this node (part of its URL). */
  name: string;
  /** Where a partition with no committed offset starts. Default 'latest', as Kafka's consumer. */
  autoOffsetReset: OffsetResetPolicy;
  /**
   * true: the offsets of the messages a poll returned are committed when the next poll comes (the
   * client asking for more says it processed what it had: at-least-once), and on leave. false: only
   * explicit commits count.
   */
  autoCommit: boolean;
  sessionTimeoutMs: number;
  /** 'range' | 'round-robin' | 'cooperative-sticky'. */
  assignor: string;
}

export type Subscription = { topics: string[]; pattern?: undefined } | { pattern: RegExp; topics?: undefined };

export interface PolledMessage extends DecodedRecord {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to consume (Kafka's convention: last processed + 1). */
  offset: number;
}

/** A committed offset as GET .../offsets shows it. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** null where the group has committed nothing for the partition. */
  offset: number | null;
  logEndOffset: number;
  lag: number | null;
}

export interface PollOptions {
  maxMessages: number;
  /** How long to wait when nothing is ready; 0 answers at once. */
  waitMs: number;
  /** True once the HTTP client went away: stop waiting, return what there is. */
  cancelled(): boolean;
}

export interface MemberSession {
  readonly settings: MemberSettings;
  subscribe(subscription: Subscription): Promise<void>;
  subscription(): Subscription | null;
  unsubscribe(): Promise<void>;
  /** Messages from the partitions assigned to the member, in order per partition. */
  poll(options: PollOptions): Promise<PolledMessage[]>;
  /** Commits `offsets`, or with none every offset this member returned so far. */
  commit(offsets?: TopicPartitionOffset[]): Promise<TopicPartitionOffset[]>;
  /** The group's committed offsets for the partitions assigned to this member now. */
  committed(): Promise<CommittedOffset[]>;
  /** The partitions assigned to this member now. */
  assignment(): { topic: string; partition: number }[];
  /** Commits (with autoCommit) and leaves the group. Idempotent. */
  close(): Promise<void>;
}

export type MemberSessionFactory = (settings: MemberSettings) => MemberSession;
