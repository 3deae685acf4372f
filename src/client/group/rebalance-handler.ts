// What a rebalance does to a member's partitions: revoke, assign, lose. Application thread.
//
// The member owns a set of partitions; the fetching consumer underneath (the manual-assignment
// Consumer) is assigned exactly that set. A rebalance changes it in steps that keep at-least-once
// delivery and duplicate as little as possible:
//   revoke(ps): the handler stops taking messages of ps (messages already fetched are skipped),
//               the message or batch in hand finishes, the progress on ps is committed (autoCommit),
//               the listener hears 'revoked', and the fetcher drops ps.
//   assign(ps): committed offsets of the new partitions are fetched (OffsetFetch); those without one
//               start at autoOffsetReset; the listener hears 'assigned'; the fetcher adds them.
//   lose():     the coordinator says this member is out of the generation, so someone else may own
//               its partitions already: they are dropped without a commit ('lost').
// Eager assignors (range, round-robin) revoke everything before every JoinGroup. Cooperative-sticky
// revokes nothing then: the member commits and keeps consuming while the group rebalances, and
// after SyncGroup gives up only the partitions that move (then rejoins, so that a second round
// hands them to their new owner), as in KIP-429.

import { type RillError } from '../../errors.js';
import { ApiKeys, type TopicPartitions } from '../../protocol/index.js';
import { flatten, toTopicPartitions, tpKey, type RebalanceProtocol } from '../assignors/index.js';
import { type Cluster } from '../cluster.js';
import { type Consumer } from '../consumer.js';
import { errorFromCode } from '../errors.js';
import { type ClientLogger } from '../logger.js';
import { type GroupChannel } from './coordinator-channel.js';
import { type MembershipHooks } from './membership.js';
import { type OffsetCommitter } from './offset-committer.js';
import { type Subscription } from './subscription.js';

export type TopicPartition = { topic: string; partition: number };

/** Rebalance listeners, kafkajs/Kafka style; each may be async (the rebalance waits for it). */
export interface RebalanceListener {
  onPartitionsAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  onPartitionsRevoked?: (partitions: TopicPartition[]) => void | Promise<void>;
  onPartitionsLost?: (partitions: TopicPartition[]) => void | Promise<void>;
}

export interface RebalanceContext {
  groupId: string;
  cluster: Cluster;
  fetcher: Consumer;
  channel: GroupChannel;
  committer: OffsetCommitter;
  subscription: Subscription;
  logger: ClientLogger;
  listener: RebalanceListener;
  /** Whether progress is committed automatically (on revoke too). */
  autoCommit: () => boolean;
  autoOffsetReset: () => 'earliest' | 'latest';
  /** The message or batch being handled now, if any. */
  inFlight: () => Promise<unknown> | null;
  emit: (event: string, payload: unknown) => void;
  /** Partitions about to be given up: drop what waits for the application (the poll buffer). */
  releasing: (keys: ReadonlySet<string>) => void;
  fatal: (error: RillError) => void;
}

export class RebalanceHandler implements MembershipHooks {
  private readonly ctx: RebalanceContext;
  /** Owned partitions (tpKey -> partition). */
  readonly owning = new Map<string, TopicPartition>();
  /** Owned partitions being given up: their messages are no longer handed to the application. */
  readonly revoking = new Set<string>();

  constructor(ctx: RebalanceContext) {
    this.ctx = ctx;
  }

  /** Whether a message of this partition may go to the application. */
  accepts(topic: string, partition: number): boolean {
    const k = tpKey(topic, partition);
    return this.owning.has(k) && !this.revoking.has(k);
  }

  ownedList(): TopicPartition[] {
    return [...this.owning.values()];
  }

  // ---- MembershipHooks ---------------------------------------------------------------------------

  topics(): string[] {
    return this.ctx.subscription.topics();
  }

  owned(): TopicPartitions[] {
    return toTopicPartitions(this.ownedPartitions());
  }

  private ownedPartitions(): TopicPartition[] {
    return [...this.owning.values()];
  }

  async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (topics.length === 0) return counts;
    this.ctx.cluster.addInterest(topics);
    await this.ctx.cluster.refreshMetadata();
    for (const topic of topics) {
      const info = this.ctx.cluster.topic(topic);
      if (info !== undefined && info.errorCode === 0 && info.partitions.length > 0) counts.set(topic, info.partitions.length);
      else this.ctx.logger.warn({ groupId: this.ctx.groupId, topic }, 'a subscribed topic does not exist (yet); it gets no members');
    }
    return counts;
  }

  async beforeJoin(protocol: RebalanceProtocol): Promise<void> {
    if (protocol === 'eager') {
      await this.revoke(this.ownedPartitions());
      return;
    }
    // Cooperative: keep consuming; commit what we have so that partitions that move lose little.
    if (this.ctx.autoCommit()) await this.commitQuietly(undefined, 'before rejoining');
  }

  async assigned(assignment: TopicPartitions[], protocol: RebalanceProtocol): Promise<boolean> {
    const next = new Map(flatten(assignment).map((tp) => [tpKey(tp.topic, tp.partition), tp] as const));
    const revoked = [...this.owning].filter(([k]) => !next.has(k)).map(([, tp]) => tp);
    const added = [...next].filter(([k]) => !this.owning.has(k)).map(([, tp]) => tp);
    if (revoked.length > 0) await this.revoke(revoked);
    if (added.length > 0) await this.add(added);
    this.ctx.emit('group.join', { protocol, assignment: flatten(assignment) });
    // Eager members give up everything before they join, so revoked is empty for them.
    return protocol === 'cooperative' && revoked.length > 0;
  }

  async lost(error: RillError): Promise<void> {
    const lost = this.ownedPartitions();
    if (lost.length === 0) return;
    for (const tp of lost) this.revoking.add(tpKey(tp.topic, tp.partition));
    this.ctx.releasing(new Set(this.revoking));
    await this.settle();
    for (const tp of lost) this.drop(tp);
    this.syncFetcher();
    this.ctx.logger.warn({ groupId: this.ctx.groupId, partitions: lost.length, reason: error.message }, 'partitions lost');
    this.ctx.emit('partitions.lost', { partitions: lost, error });
    await this.callListener('onPartitionsLost', lost);
  }

  fatal(error: RillError): void {
    this.ctx.fatal(error);
  }

  // ---- steps -------------------------------------------------------------------------------------

  /** Gives up partitions: stop handing out, finish the one in hand, commit, tell, drop. */
  async revoke(partitions: TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    const keys = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const k of keys) this.revoking.add(k);
    this.ctx.releasing(keys);
    await this.settle();
    if (this.ctx.autoCommit()) await this.commitQuietly((t, p) => keys.has(tpKey(t, p)), 'on revocation');
    await this.callListener('onPartitionsRevoked', partitions);
    for (const tp of partitions) this.drop(tp);
    this.syncFetcher();
    this.ctx.emit('partitions.revoked', { partitions });
  }

  /** Drops every partition without a commit (the consumer crashed or is stopping after a commit). */
  releaseAll(): TopicPartition[] {
    const all = this.ownedPartitions();
    for (const tp of all) this.drop(tp);
    this.syncFetcher();
    return all;
  }

  private async add(partitions: TopicPartition[]): Promise<void> {
    const response = await this.ctx.channel.call(ApiKeys.OffsetFetch, { groupId: this.ctx.groupId, partitions });
    if (response.errorCode !== 0) throw errorFromCode(response.errorCode, response.message, { groupId: this.ctx.groupId });
    const committed = new Map(response.partitions.map((p) => [tpKey(p.topic, p.partition), p] as const));
    const offsets = new Map<string, number | 'earliest' | 'latest'>();
    for (const tp of partitions) {
      const k = tpKey(tp.topic, tp.partition);
      const found = committed.get(k);
      if (found !== undefined && found.errorCode !== 0) throw errorFromCode(found.errorCode, undefined, { groupId: this.ctx.groupId, topic: tp.topic, partition: tp.partition });
      const offset = found?.offset ?? -1;
      this.owning.set(k, tp);
      this.revoking.delete(k);
      this.ctx.committer.track(tp.topic, tp.partition, offset);
      offsets.set(k, offset >= 0 ? offset : this.ctx.autoOffsetReset());
    }
    this.syncFetcher(offsets);
    this.ctx.emit('partitions.assigned', { partitions });
    await this.callListener('onPartitionsAssigned', partitions);
  }

  private drop(tp: TopicPartition): void {
    const k = tpKey(tp.topic, tp.partition);
    this.owning.delete(k);
    this.revoking.delete(k);
    this.ctx.committer.untrack(tp.topic, tp.partition);
  }

  /** Assigns the fetcher exactly the owned partitions; `offsets` places the new ones. */
  private syncFetcher(offsets: Map<string, number | 'earliest' | 'latest'> = new Map()): void {
    this.ctx.fetcher.assign([...this.owning].map(([k, tp]) => ({ topic: tp.topic, partition: tp.partition, ...(offsets.has(k) ? { offset: offsets.get(k)! } : {}) })));
  }

  /** Waits for the message or batch in hand (the application handles one at a time). */
  private async settle(): Promise<void> {
    for (let current = this.ctx.inFlight(); current !== null; current = this.ctx.inFlight()) await current.catch(() => undefined);
  }

  private async commitQuietly(filter: ((topic: string, partition: number) => boolean) | undefined, when: string): Promise<void> {
    try {
      await this.ctx.committer.commitConsumed(filter);
    } catch (error) {
      // The next owner starts from the previous commit: those messages are delivered again.
      this.ctx.logger.warn({ err: error, groupId: this.ctx.groupId }, `commit ${when} failed; the partitions' next owner resumes from the previous commit`);
      this.ctx.emit('commit.failed', { error, when });
    }
  }

  private async callListener(name: keyof RebalanceListener, partitions: TopicPartition[]): Promise<void> {
    const fn = this.ctx.listener[name];
    if (fn === undefined) return;
    try {
      await fn(partitions);
    } catch (error) {
      this.ctx.logger.error({ err: error, groupId: this.ctx.groupId }, `${name} threw; the rebalance goes on`);
    }
  }
}
