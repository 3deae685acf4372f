// An HTTP group member made of the client library's group consumer, connected to this broker's
// own binary listener (and through its metadata to the rest of the cluster), as the Confluent
// REST proxy runs a Kafka consumer per instance. Main thread.
//
// Why a loopback client and not a member inside the coordinator: membership is the client's
// protocol (join, sync, the leader's assignment, heartbeats, revocation, commits), and the group
// consumer already speaks it; a second implementation here would drift from it. The cost is one
// loopback hop per poll batch, paid only by HTTP members.
//
// Delivery: the messages a poll returns count as processed when the same member polls again, as
// Kafka's poll() confirms the previous one; with autoCommit they are then committed (on the
// consumer's interval, on revocation and on leave). A poll whose HTTP client went away before the
// answer was written puts its messages back (a seek to the first of each partition), so nothing
// unseen is confirmed. Memory: each member prefetches at most MEMBER_PREFETCH_BYTES.

import { Errors, RillError } from '../../errors.js';
import { cooperativeStickyAssignor, rangeAssignor, roundRobinAssignor, type Assignor } from '../../client/assignors/index.js';
import { type Admin } from '../../client/admin.js';
import { type GroupConsumer } from '../../client/group/group-consumer.js';
import { type Rill } from '../../client/rill.js';
import { type CommittedOffset, type MemberSession, type MemberSettings, type PollOptions, type PolledMessage, type Subscription, type TopicPartitionOffset } from './member-session.js';

/** What one member fetches ahead of its polls at most (and so the most one poll can return). */
export const MEMBER_PREFETCH_BYTES = 1024 * 1024;

const ASSIGNORS: Record<string, Assignor> = {
  range: rangeAssignor,
  'round-robin': roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};

/** The loopback client and admin the members share (one connection per broker for all of them). */
export interface MemberClient {
  rill(): Rill;
  admin(): Promise<Admin>;
}

export class ClientMemberSession implements MemberSession {
  readonly settings: MemberSettings;
  private readonly client: MemberClient;
  private consumer: GroupConsumer | null = null;
  private current: Subscription | null = null;
  /** Per partition, the offset after the last message a poll returned. */
  private readonly returned = new Map<string, TopicPartitionOffset>();
  private closed = false;

  constructor(settings: MemberSettings, client: MemberClient) {
    const assignor = ASSIGNORS[settings.assignor];
    if (assignor === undefined) throw new RillError(Errors.INVALID_REQUEST, `unknown assignor ${JSON.stringify(settings.assignor)}; known: ${Object.keys(ASSIGNORS).join(', ')}`);
    this.settings = settings;
    this.client = client;
  }

  /** Replaces the subscription: the old consumer commits (autoCommit) and leaves, a new one joins. */
  async subscribe(subscription: Subscription): Promise<void> {
    this.checkOpen();
    await this.stopConsumer();
    const { groupId, sessionTimeoutMs, autoOffsetReset, assignor } = this.settings;
    const consumer = this.client.rill().consumer({
      groupId,
      sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(1, Math.min(3_000, Math.floor(sessionTimeoutMs / 3))),
      autoOffsetReset,
      assignors: [ASSIGNORS[assignor]],
      maxPrefetchBytes: MEMBER_PREFETCH_BYTES,
      maxBytes: MEMBER_PREFETCH_BYTES,
      maxBytesPerPartition: MEMBER_PREFETCH_BYTES,
    });
    try {
      await consumer.connect();
      await consumer.subscribe(subscription.topics !== undefined ? { topics: subscription.topics } : { pattern: subscription.pattern });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    this.consumer = consumer;
    this.current = subscription;
  }

  subscription(): Subscription | null {
    return this.current;
  }

  async unsubscribe(): Promise<void> {
    this.checkOpen();
    await this.stopConsumer();
  }

  async poll(options: PollOptions): Promise<PolledMessage[]> {
    this.checkOpen();
    const consumer = this.requireConsumer();
    const taken = await consumer.poll({ maxRecords: options.maxMessages, maxWaitMs: options.waitMs, autoCommit: this.settings.autoCommit });
    if (options.cancelled()) {
      // Nobody will see these: put them back so the next poll (or the next owner) gets them.
      const first = new Map<string, { topic: string; partition: number; offset: number }>();
      for (const { topic, partition, message } of taken) if (!first.has(`${topic}\u0000${partition}`)) first.set(`${topic}\u0000${partition}`, { topic, partition, offset: message.offset });
      for (const p of first.values()) {
        try {
          consumer.seek(p);
        } catch {
          // revoked meanwhile: its next owner starts from the last commit
        }
      }
      return [];
    }
    const out: PolledMessage[] = new Array(taken.length);
    for (let i = 0; i < taken.length; i++) {
      const { topic, partition, message } = taken[i];
      this.returned.set(`${topic}\u0000${partition}`, { topic, partition, offset: message.offset + 1 });
      const headers = Object.entries(message.headers).map(([key, value]) => ({ key, value }));
      out[i] = { topic, partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value: message.value, headers };
    }
    return out;
  }

  async commit(offsets?: TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    this.checkOpen();
    const consumer = this.requireConsumer();
    if (offsets !== undefined) {
      await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      return offsets;
    }
    await consumer.commitPolled();
    const owned = new Set(consumer.assignment().map((p) => `${p.topic}\u0000${p.partition}`));
    return [...this.returned.entries()].filter(([key]) => owned.has(key)).map(([, p]) => p);
  }

  async committed(): Promise<CommittedOffset[]> {
    this.checkOpen();
    const consumer = this.requireConsumer();
    const assigned = consumer.assignment();
    if (assigned.length === 0) return [];
    const admin = await this.client.admin();
    const lags = await admin.fetchOffsets({ groupId: this.settings.groupId, topics: [...new Set(assigned.map((p) => p.topic))] });
    const mine = new Set(assigned.map((p) => `${p.topic}\u0000${p.partition}`));
    return lags
      .filter((l) => mine.has(`${l.topic}\u0000${l.partition}`))
      .map((l) => ({ topic: l.topic, partition: l.partition, offset: l.committedOffset < 0 ? null : l.committedOffset, logEndOffset: l.logEndOffset, lag: l.lag }));
  }

  assignment(): { topic: string; partition: number }[] {
    return this.consumer?.assignment().map(({ topic, partition }) => ({ topic, partition })) ?? [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopConsumer();
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    this.current = null;
    this.returned.clear();
    if (consumer === null) return;
    // The client asking to leave says it processed what it was given: confirm and commit it.
    if (this.settings.autoCommit) await consumer.commitPolled().catch(() => {});
    await consumer.disconnect();
  }

  private requireConsumer(): GroupConsumer {
    if (this.consumer === null) throw new RillError(Errors.NOT_SUBSCRIBED, `member ${this.settings.name} of group ${this.settings.groupId} has no subscription: POST its /subscription first`);
    return this.consumer;
  }

  private checkOpen(): void {
    if (this.closed) throw new RillError(Errors.UNKNOWN_GROUP_MEMBER, `member ${this.settings.name} of group ${this.settings.groupId} was closed`);
  }
}
