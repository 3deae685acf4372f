// The group consumer: `rill.consumer({ groupId })`. Members of one group share the partitions of
// the topics they subscribe to, each partition consumed by one member at a time; progress is
// committed to the group's coordinator and survives restarts. Application thread.
//
// Built from parts, each in its own file: a CoordinatorChannel finds the coordinator and re-finds
// it when it moves; GroupMembership runs join / sync / heartbeat; RebalanceHandler turns each new
// assignment into revocations and additions; OffsetCommitter tracks and commits progress; and the
// manual-assignment Consumer underneath fetches exactly the owned partitions.
//
// Delivery is at-least-once by default: an offset is committed only after the handler for its
// message resolved (autoCommit every autoCommitIntervalMs and/or every autoCommitThreshold messages,
// on every revocation and on disconnect), so a member that dies leaves at most its uncommitted
// window to be delivered again, and one that stops or is rebalanced cleanly leaves nothing.

import { EventEmitter } from 'node:events';
import { Errors, RillError } from '../../errors.js';
import { MAX_GROUP_ID_LENGTH } from '../../protocol/index.js';
import { cooperativeStickyAssignor, rangeAssignor, tpKey, type Assignor } from '../assignors/index.js';
import { type Cluster } from '../cluster.js';
import { Consumer, type ConsumerConfig, type ConsumerDefaults, type EachMessagePayload, type SeekOffset } from '../consumer.js';
import { RillDisconnectedError } from '../errors.js';
import { type FetchedBatch } from '../fetched-batch.js';
import { CoordinatorChannel } from './coordinator-channel.js';
import { GroupMembership } from './membership.js';
import { OffsetCommitter, type OffsetToCommit } from './offset-committer.js';
import { PollBuffer } from './poll-buffer.js';
import { RebalanceHandler, type RebalanceListener, type TopicPartition } from './rebalance-handler.js';
import { Subscription, type SubscribeOptions } from './subscription.js';

export interface GroupConsumerConfig extends Omit<ConsumerConfig, 'fromBeginning' | 'autoOffsetReset'> {
  /** The group to join: 1..255 characters. */
  groupId: string;
  /** Static membership: a stable name for this member; a restart within the session timeout gets its partitions back without a rebalance. */
  groupInstanceId?: string;
  /** The coordinator evicts a member silent this long. Default 30,000 ms (within the broker's group.min/max.session.timeout.ms). */
  sessionTimeoutMs?: number;
  /** How long a rebalance waits for members to rejoin (finish what they hold, commit). Default 60,000 ms. */
  rebalanceTimeoutMs?: number;
  /** Default 3,000 ms; must be below sessionTimeoutMs (a third of it is usual). */
  heartbeatIntervalMs?: number;
  /** Assignors offered, most preferred first. Default [range, cooperative-sticky], as Kafka's. */
  assignors?: Assignor[];
  /** Where a partition without a committed offset starts. Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** How often a pattern subscription and partition counts are checked again. Default 30,000 ms. */
  metadataRefreshMs?: number;
  /** Rebalance callbacks (the same moments are also emitted as events). */
  rebalanceListener?: RebalanceListener;
}

export interface GroupEachBatchPayload {
  batch: FetchedBatch;
  /** Marks every message up to and including `offset` as processed (what the next commit stores). */
  resolveOffset: (offset: number) => void;
  /** Commits what has been resolved, if autoCommit's interval or threshold says it is time. */
  commitOffsetsIfNecessary: () => Promise<void>;
  isRunning: () => boolean;
  /** True once the batch's partition was revoked, sought or paused: stop and return. */
  isStale: () => boolean;
}

export interface GroupRunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: GroupEachBatchPayload) => Promise<void>;
  /** Commit progress automatically (on an interval, a threshold, revocation, disconnect). Default true. */
  autoCommit?: boolean;
  /** Default 5,000 ms; 0 turns the interval off. */
  autoCommitIntervalMs?: number;
  /** Commit after this many processed messages as well. Default off. */
  autoCommitThreshold?: number;
  /** eachBatch: when the handler resolves, the whole batch counts as processed. Default true. */
  eachBatchAutoResolve?: boolean;
}

export interface PollOptions extends Pick<GroupRunConfig, 'autoCommit' | 'autoCommitIntervalMs' | 'autoCommitThreshold'> {
  /** At most this many messages. Default 500. */
  maxRecords?: number;
  /** How long to wait when none are ready. Default 1,000 ms; 0 answers at once. */
  maxWaitMs?: number;
}

/** Messages waiting for poll() at most; the fetcher's prefetch bound applies besides. */
const POLL_BUFFER_MESSAGES = 10_000;

export class GroupConsumer extends EventEmitter {
  readonly groupId: string;
  private readonly cluster: Cluster;
  private readonly fetcher: Consumer;
  private readonly channel: CoordinatorChannel;
  private readonly membership: GroupMembership;
  private readonly committer: OffsetCommitter;
  private readonly rebalance: RebalanceHandler;
  private readonly subscription = new Subscription();
  private readonly groupInstanceId: string | undefined;
  private readonly metadataRefreshMs: number;
  private autoOffsetReset: 'earliest' | 'latest';
  private autoCommit = true;
  private autoCommitThreshold = 0;
  private connected = false;
  private running = false;
  private current: Promise<unknown> | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  private mode: 'run' | 'poll' | null = null;
  private pollStart: Promise<void> | null = null;
  private readonly pollBuffer = new PollBuffer(POLL_BUFFER_MESSAGES);
  /** Per partition, the offset after the last message poll() returned, not yet counted as processed. */
  private readonly polled = new Map<string, { topic: string; partition: number; next: number }>();

  constructor(cluster: Cluster, config: GroupConsumerConfig, defaults: ConsumerDefaults & { clientId: string }) {
    super();
    const groupId = config.groupId;
    if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > MAX_GROUP_ID_LENGTH) {
      throw new RillError(Errors.INVALID_GROUP_ID, `groupId must be a string of 1..${MAX_GROUP_ID_LENGTH} characters, got ${JSON.stringify(groupId)}`);
    }
    if (config.groupInstanceId !== undefined && (typeof config.groupInstanceId !== 'string' || config.groupInstanceId.length === 0 || config.groupInstanceId.length > 255)) {
      throw new RillError(Errors.INVALID_CONFIG, `groupInstanceId must be a string of 1..255 characters, got ${JSON.stringify(config.groupInstanceId)}`);
    }
    const sessionTimeoutMs = integer('sessionTimeoutMs', config.sessionTimeoutMs ?? 30_000, 1);
    const rebalanceTimeoutMs = integer('rebalanceTimeoutMs', config.rebalanceTimeoutMs ?? 60_000, 1);
    const heartbeatIntervalMs = integer('heartbeatIntervalMs', config.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeoutMs / 3)), 1);
    if (heartbeatIntervalMs >= sessionTimeoutMs) throw new RillError(Errors.INVALID_CONFIG, `heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`);
    this.metadataRefreshMs = integer('metadataRefreshMs', config.metadataRefreshMs ?? 30_000, 1);
    const assignors = config.assignors ?? [rangeAssignor, cooperativeStickyAssignor];
    if (!Array.isArray(assignors) || assignors.length === 0 || assignors.some((a) => typeof a?.assign !== 'function' || typeof a.name !== 'string')) {
      throw new RillError(Errors.INVALID_CONFIG, 'assignors must be a non-empty list of assignors (e.g. [cooperativeStickyAssignor])');
    }
    const reset = config.autoOffsetReset ?? 'latest';
    if (reset !== 'earliest' && reset !== 'latest') throw new RillError(Errors.INVALID_CONFIG, `autoOffsetReset must be 'earliest' or 'latest', got ${JSON.stringify(reset)}`);
    this.autoOffsetReset = reset;
    this.groupId = groupId;
    this.groupInstanceId = config.groupInstanceId;
    this.cluster = cluster;
    const { groupId: _g, groupInstanceId: _i, sessionTimeoutMs: _s, rebalanceTimeoutMs: _r, heartbeatIntervalMs: _h, assignors: _a, metadataRefreshMs: _m, rebalanceListener: _l, ...fetchConfig } = config;
    // Out-of-range positions (retention deleted what the commit pointed at) reset the same way.
    this.fetcher = new Consumer(cluster, { ...fetchConfig, autoOffsetReset: reset }, defaults);
    this.fetcher.on('crash', ({ error }: { error: unknown }) => void this.crash(error));
    this.channel = new CoordinatorChannel(cluster, groupId);
    let membership: GroupMembership | undefined;
    this.committer = new OffsetCommitter(this.channel, groupId, () => membership!.generation());
    this.committer.onCommitted = (offsets) => this.emit('commit', { offsets });
    this.rebalance = new RebalanceHandler({
      groupId,
      cluster,
      fetcher: this.fetcher,
      channel: this.channel,
      committer: this.committer,
      subscription: this.subscription,
      logger: defaults.logger,
      listener: config.rebalanceListener ?? {},
      autoCommit: () => this.autoCommit,
      autoOffsetReset: () => this.autoOffsetReset,
      inFlight: () => this.current,
      emit: (event, payload) => this.emit(event, payload),
      releasing: (keys) => {
        // Polled but unconfirmed messages of these partitions are not counted: their next owner reads them again.
        for (const k of keys) this.polled.delete(k);
        this.pollBuffer.drop((p) => keys.has(tpKey(p.topic, p.partition)));
      },
      fatal: (error) => void this.crash(error),
    });
    membership = new GroupMembership(
      this.channel,
      {
        groupId,
        ...(config.groupInstanceId === undefined ? {} : { groupInstanceId: config.groupInstanceId }),
        clientId: defaults.clientId,
        sessionTimeoutMs,
        rebalanceTimeoutMs,
        heartbeatIntervalMs,
        assignors,
        retry: defaults.retry,
        logger: defaults.logger,
      },
      this.rebalance,
    );
    this.membership = membership;
  }

  private get logger() {
    return this.cluster.logger;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.fetcher.connect();
    this.channel.open();
    this.connected = true;
  }

  /** Adds topics (or a pattern) to the subscription; before run(), or while running (the group rebalances). */
  async subscribe(options: SubscribeOptions): Promise<void> {
    this.subscription.add(options);
    if (options.fromBeginning === true) this.autoOffsetReset = 'earliest';
    if (this.connected && this.subscription.hasPattern) await this.subscription.refresh(this.cluster);
    this.cluster.addInterest(this.subscription.topics());
    if (this.running) this.membership.requestRejoin('the subscription changed');
  }

  /** Joins the group and consumes with the handler until stop() or disconnect(); resolves once started. */
  async run(config: GroupRunConfig): Promise<void> {
    if (config.eachMessage === undefined && config.eachBatch === undefined) throw new RillError(Errors.INVALID_REQUEST, 'run() needs eachMessage or eachBatch');
    await this.begin('run', config);
  }

  private async begin(mode: 'run' | 'poll', config: GroupRunConfig): Promise<void> {
    if (!this.connected) throw new RillDisconnectedError('the consumer is not connected: call consumer.connect() first');
    if (this.running) throw new RillError(Errors.INVALID_REQUEST, this.mode === mode ? 'the consumer is already running' : `the consumer is consuming with ${this.mode}(); it cannot ${mode}() as well`);
    if (this.subscription.isEmpty) throw new RillError(Errors.INVALID_REQUEST, `subscribe() to topics or a pattern before ${mode}()`);
    const interval = integer('autoCommitIntervalMs', config.autoCommitIntervalMs ?? 5_000, 0);
    this.autoCommitThreshold = integer('autoCommitThreshold', config.autoCommitThreshold ?? 0, 0);
    this.autoCommit = config.autoCommit ?? true;
    if (this.subscription.hasPattern) await this.subscription.refresh(this.cluster);
    this.cluster.addInterest(this.subscription.topics());
    this.mode = mode;
    this.running = true;
    await this.fetcher.run({
      ...(mode === 'poll'
        ? { eachMessage: (payload: EachMessagePayload) => this.bufferMessage(payload) }
        : config.eachBatch === undefined
        ? { eachMessage: (payload: EachMessagePayload) => this.handleMessage(config.eachMessage!, payload) }
        : { eachBatch: ({ batch, isRunning, isStale }) => this.handleBatch(config, batch, isRunning, isStale) }),
    });
    if (this.autoCommit && interval > 0) {
      this.commitTimer = setInterval(() => {
        if (this.membership.state === 'stable' && this.committer.hasUncommitted()) void this.autoCommitNow();
      }, interval);
    }
    this.refreshTimer = setInterval(() => void this.checkMetadata(true), this.metadataRefreshMs);
    this.unwatch = this.cluster.onChange(() => void this.checkMetadata(false));
    this.membership.start();
  }

  // ---- handing messages to the application -------------------------------------------------------

  /**
   * Up to maxRecords messages of the owned partitions, waiting up to maxWaitMs for some: the pull
   * API, instead of run() (the first poll() joins the group). The messages of the previous poll()
   * count as processed from this call on, and are committed by autoCommit (or commitPolled());
   * a rebalance that revokes a partition before that hands its unconfirmed messages to the next
   * owner again (at-least-once).
   */
  async poll(options: PollOptions = {}): Promise<EachMessagePayload[]> {
    const maxRecords = integer('maxRecords', options.maxRecords ?? 500, 1);
    const maxWaitMs = integer('maxWaitMs', options.maxWaitMs ?? 1_000, 0);
    if (this.mode !== 'poll' || !this.running) {
      // The first poll() joins (autoCommit settings are read then); concurrent first polls share the start.
      this.pollStart ??= this.begin('poll', { autoCommit: options.autoCommit, autoCommitIntervalMs: options.autoCommitIntervalMs, autoCommitThreshold: options.autoCommitThreshold }).finally(() => (this.pollStart = null));
      await this.pollStart;
    }
    this.confirmPolled();
    if (this.autoCommitThreshold > 0 && this.committer.uncommittedMessages >= this.autoCommitThreshold) void this.autoCommitNow();
    const taken = await this.pollBuffer.take(maxRecords, maxWaitMs, (p) => this.rebalance.accepts(p.topic, p.partition));
    for (const { topic, partition, message } of taken) this.polled.set(tpKey(topic, partition), { topic, partition, next: message.offset + 1 });
    return taken;
  }

  /**
   * `for await (const messages of consumer)`: poll() in a loop, one non-empty array of messages
   * per step, until stop() or disconnect(); the messages of a step count as processed when the
   * loop asks for the next.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<EachMessagePayload[], void, undefined> {
    for (let first = true; first || (this.running && this.mode === 'poll'); first = false) {
      const messages = await this.poll();
      if (messages.length > 0) yield messages;
    }
  }

  /** Counts every message poll() returned as processed and commits (the HTTP API's commit). */
  async commitPolled(): Promise<void> {
    this.confirmPolled();
    await this.commitConsumed();
  }

  private confirmPolled(): void {
    for (const p of this.polled.values()) if (this.rebalance.accepts(p.topic, p.partition)) this.committer.markConsumed(p.topic, p.partition, p.next);
    this.polled.clear();
  }

  private async bufferMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    if (!this.rebalance.accepts(topic, partition)) return;
    const next = this.committer.floorOf(topic, partition);
    if (next >= 0 && message.offset < next) return;
    // Handed over: the wait is only backpressure, not processing, so it is not `current` (a
    // revocation drops the buffered messages it concerns instead of waiting for a poll()).
    await this.pollBuffer.push(payload);
  }

  private async handleMessage(each: (payload: EachMessagePayload) => Promise<void>, payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    if (!this.rebalance.accepts(topic, partition)) return;
    // A message fetched before its partition was revoked and assigned again, or before a commit moved past it.
    const next = this.committer.floorOf(topic, partition);
    if (next >= 0 && message.offset < next) return;
    const handling = each(payload);
    this.current = handling;
    try {
      await handling;
    } finally {
      this.current = null;
    }
    this.committer.markConsumed(topic, partition, message.offset + 1);
    if (this.autoCommitThreshold > 0 && this.committer.uncommittedMessages >= this.autoCommitThreshold) void this.autoCommitNow();
  }

  private async handleBatch(config: GroupRunConfig, batch: FetchedBatch, isRunning: () => boolean, isStale: () => boolean): Promise<void> {
    const { topic, partition } = batch;
    if (!this.rebalance.accepts(topic, partition)) return;
    const next = this.committer.floorOf(topic, partition);
    if (next >= 0 && batch.nextOffset <= next) return;
    const handling = config.eachBatch!({
      batch,
      resolveOffset: (offset) => this.committer.markConsumed(topic, partition, offset + 1, 0),
      commitOffsetsIfNecessary: async () => {
        if (this.autoCommit && this.autoCommitThreshold > 0 && this.committer.uncommittedMessages >= this.autoCommitThreshold) await this.autoCommitNow();
      },
      isRunning: () => isRunning() && this.running,
      isStale: () => isStale() || !this.rebalance.accepts(topic, partition),
    });
    this.current = handling;
    try {
      await handling;
    } finally {
      this.current = null;
    }
    if (config.eachBatchAutoResolve ?? true) this.committer.markConsumed(topic, partition, batch.lastOffset() + 1, batch.messages.length);
    if (this.autoCommitThreshold > 0 && this.committer.uncommittedMessages >= this.autoCommitThreshold) void this.autoCommitNow();
  }

  private async autoCommitNow(): Promise<void> {
    try {
      await this.committer.commitConsumed((t, p) => this.rebalance.accepts(t, p));
    } catch (error) {
      // A rebalance in progress refuses commits; the revocation commit or the next interval retries.
      this.logger.debug?.({ err: error, groupId: this.groupId }, 'auto-commit failed; retrying later');
    }
  }

  // ---- offsets, positions, flow control --------------------------------------------------------

  /**
   * Commits these offsets (the next offset to consume, per partition) now. Rejects with the
   * coordinator's code when any is refused: PARTITION_NOT_ASSIGNED for a partition this member
   * does not own, ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS during a rebalance.
   */
  async commitOffsets(offsets: OffsetToCommit[]): Promise<void> {
    if (!this.connected) throw new RillDisconnectedError('the consumer is not connected: call consumer.connect() first');
    await this.committer.commitOffsets(offsets);
  }

  /** Commits everything processed so far on the owned partitions. */
  async commitConsumed(): Promise<void> {
    await this.committer.commitConsumed((t, p) => this.rebalance.accepts(t, p));
  }

  /** The partitions this member owns now. */
  assignment(): TopicPartition[] {
    return this.rebalance.ownedList();
  }

  /** The current generation and member id (generationId -1 while not a member). */
  memberInfo(): { memberId: string; generationId: number; leader: boolean; protocol: string | null; rebalances: number } {
    return { memberId: this.membership.memberId, generationId: this.membership.generationId, leader: this.membership.isLeader, protocol: this.membership.protocol?.name ?? null, rebalances: this.membership.rebalances };
  }

  /** Moves an owned partition's position; the next commit stores it once a message past it is processed. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: SeekOffset }): void {
    if (!this.rebalance.accepts(topic, partition)) throw new RillError(Errors.PARTITION_NOT_ASSIGNED, `cannot seek ${topic}-${partition}: it is not assigned to this member`, { topic, partition });
    this.fetcher.seek({ topic, partition, offset });
    this.committer.resetConsumed(topic, partition, typeof offset === 'number' ? offset : -1);
    this.polled.delete(tpKey(topic, partition));
    this.pollBuffer.drop((p) => p.topic === topic && p.partition === partition);
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    this.fetcher.pause(topics);
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    this.fetcher.resume(topics);
  }

  paused(): { topic: string; partitions: number[] }[] {
    return this.fetcher.paused();
  }

  // ---- metadata --------------------------------------------------------------------------------

  /** A pattern's new topics, or new partitions of subscribed topics, make the member rejoin. */
  private async checkMetadata(refresh: boolean): Promise<void> {
    if (!this.running) return;
    try {
      if (refresh) {
        if (await this.subscription.refresh(this.cluster)) {
          this.cluster.addInterest(this.subscription.topics());
          this.membership.requestRejoin('the pattern matches other topics now');
          return;
        }
        this.cluster.requestRefresh();
        return;
      }
      if (!this.membership.isLeader || this.membership.state !== 'stable') return;
      for (const topic of this.subscription.topics()) {
        const info = this.cluster.topic(topic);
        const count = info !== undefined && info.errorCode === 0 ? info.partitions.length : 0;
        if (count !== (this.membership.assignedCounts.get(topic) ?? 0)) {
          this.membership.requestRejoin(`topic ${topic} has ${count} partitions now`);
          return;
        }
      }
    } catch (error) {
      this.logger.warn({ err: error, groupId: this.groupId }, 'checking subscribed topics failed');
    }
  }

  // ---- stopping --------------------------------------------------------------------------------

  /**
   * Stops consuming: finishes the message in hand, commits what was processed (autoCommit),
   * tells the listener the partitions are revoked, and leaves the group so that the others take
   * them over at once. A static member (groupInstanceId) does not leave: a restart within its
   * session timeout gets the same partitions back without a rebalance.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown(true).finally(() => (this.stopping = null));
    return this.stopping;
  }

  private async shutdown(commit: boolean): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clearTimers();
    const membershipDone = this.membership.stop();
    // A clean stop means the application is done with what it polled (Kafka's close() commits positions).
    this.confirmPolled();
    this.pollBuffer.drop(() => true);
    this.pollBuffer.wakeAll();
    await this.fetcher.stop();
    const owned = this.rebalance.ownedList();
    if (commit && this.autoCommit && owned.length > 0) {
      try {
        await this.committer.commitConsumed();
      } catch (error) {
        this.logger.warn({ err: error, groupId: this.groupId }, 'the final commit failed; the next owner resumes from the previous commit');
        this.emit('commit.failed', { error, when: 'on stop' });
      }
    }
    await this.committer.drain();
    if (commit && owned.length > 0) this.emit('partitions.revoked', { partitions: owned });
    this.rebalance.releaseAll();
    if (this.groupInstanceId === undefined) await this.membership.leave();
    await membershipDone;
    this.mode = null;
  }

  /** Stops (committing and leaving), then lets go of the connections. */
  async disconnect(): Promise<void> {
    await this.stop();
    if (!this.connected) return;
    this.connected = false;
    this.channel.close();
    await this.fetcher.disconnect();
  }

  private async crash(error: unknown): Promise<void> {
    this.logger.error({ err: error, groupId: this.groupId }, 'the group consumer crashed; leaving the group');
    // The failed message is not marked, so committing the rest loses nothing and duplicates little.
    await this.stop().catch(() => undefined);
    this.emit('crash', { error });
  }

  private clearTimers(): void {
    if (this.commitTimer !== null) clearInterval(this.commitTimer);
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.commitTimer = null;
    this.refreshTimer = null;
    this.unwatch?.();
    this.unwatch = null;
  }
}

function integer(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > 0x7fff_ffff) throw new RillError(Errors.INVALID_CONFIG, `${name} must be an integer in [${min}, 2^31-1], got ${value}`);
  return value;
}
