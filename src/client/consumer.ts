// The consumer: manual assignment, seeks, pause/resume, and delivery by async iteration or by
// run({ eachMessage | eachBatch }), kafkajs-style. Application thread. (Consumer groups, with
// committed offsets, come in a later issue; this consumer keeps its positions itself.)
//
// The fetcher (fetcher.ts) fills a queue of FetchedBatches, one per partition per fetch, bounded
// by maxPrefetchBytes; the application takes them in the order they arrived, skipping partitions
// it paused (their batches wait, as Kafka's consumer holds back paused partitions' records). The
// queue holds a few dozen entries at most (prefetch bytes / bytes per fetch), so taking is a
// short scan. Records are decoded only when a batch's `messages` is read.
//
// Positions: a newly assigned partition starts where assign() or seek() says, else at the end of
// the log ('latest'), or at its start with fromBeginning: true. An offset out of range is an error
// handed to the application (the iterator throws it, run() crashes with it), unless
// autoOffsetReset is 'earliest' or 'latest'. stop() rewinds every partition to the first message
// not yet handed to the application, so a later run() or iteration misses nothing.
//
// Handler errors in run(): the partition is sought back to the message (or batch) that failed,
// the consumer backs off with the retry policy, and tries again; after `retry.retries` failures in
// a row it stops and emits 'crash' with the error, as kafkajs does.

import { EventEmitter } from 'node:events';
import { Errors, RillError } from '../errors.js';
import { type Cluster } from './cluster.js';
import { RillDisconnectedError } from './errors.js';
import { Fetcher, PartitionState } from './fetcher.js';
import type { Assignment, ConsumerConfig, ConsumerDefaults, RunConfig, SeekOffset, TopicPartitionOffset } from './consumer-types.js';
import { type FetchedBatch } from './fetched-batch.js';
import { EARLIEST, LATEST, listOffsets } from './list-offsets.js';
import { type ClientLogger } from './logger.js';
import { sleep, type RetryPolicy } from './retry.js';

export type { Assignment, ConsumerConfig, ConsumerDefaults, EachBatchPayload, EachMessagePayload, RunConfig, SeekOffset, TopicPartitionOffset } from './consumer-types.js';

type Waiter = { resolve: (result: IteratorResult<FetchedBatch>) => void; reject: (error: Error) => void };

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class Consumer extends EventEmitter {
  private readonly cluster: Cluster;
  private readonly logger: ClientLogger;
  private readonly retry: RetryPolicy;
  private readonly fromBeginning: boolean;
  private readonly states = new Map<string, PartitionState>();
  /** Whole topics assigned with `{ topic }`, expanded once their metadata is known. */
  private readonly wholeTopics = new Map<string, SeekOffset | undefined>();
  private readonly fetcher: Fetcher;
  private readonly ready: FetchedBatch[] = [];
  private readyBytes = 0;
  private readonly waiters: Waiter[] = [];
  /** Partitions whose error the application has not been given yet. */
  private readonly failedStates: PartitionState[] = [];
  private connected = false;
  private running = false;
  private runLoop: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(cluster: Cluster, config: ConsumerConfig, defaults: ConsumerDefaults) {
    super();
    this.cluster = cluster;
    this.logger = defaults.logger;
    this.retry = defaults.retry;
    this.fromBeginning = config.fromBeginning ?? false;
    const maxWaitMs = config.maxWaitMs ?? 500;
    const minBytes = config.minBytes ?? 1;
    const maxBytesPerPartition = config.maxBytesPerPartition ?? 1024 * 1024;
    const maxPrefetchBytes = config.maxPrefetchBytes ?? 32 * 1024 * 1024;
    const autoOffsetReset = config.autoOffsetReset ?? 'none';
    const maxInFlightFetches = config.maxInFlightFetches ?? 8;
    // The response must fit this side's frame limit: leave room for the head and the header.
    const headroom = 64 * 1024;
    const maxBytes = Math.min(config.maxBytes ?? 8 * 1024 * 1024, defaults.maxFrameBytes - headroom);
    for (const [name, value, min] of [
      ['maxWaitMs', maxWaitMs, 0],
      ['minBytes', minBytes, 0],
      ['maxBytes', maxBytes, 1],
      ['maxBytesPerPartition', maxBytesPerPartition, 1],
      ['maxPrefetchBytes', maxPrefetchBytes, 1],
      ['maxInFlightFetches', maxInFlightFetches, 1],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min || value > 0x7fff_ffff) throw new RillError(Errors.INVALID_CONFIG, `${name} must be an integer in [${min}, 2^31-1], got ${value}`);
    }
    if (!['earliest', 'latest', 'none'].includes(autoOffsetReset)) throw new RillError(Errors.INVALID_CONFIG, `autoOffsetReset must be 'earliest', 'latest' or 'none', got ${String(autoOffsetReset)}`);
    this.fetcher = new Fetcher({
      cluster,
      logger: this.logger,
      maxWaitMs,
      minBytes,
      maxBytes,
      maxBytesPerPartition,
      maxPrefetchBytes,
      maxInFlightFetches,
      autoOffsetReset,
      requestTimeoutMs: defaults.requestTimeoutMs,
      partitions: () => this.states.values(),
      prefetchedBytes: () => this.readyBytes,
      deliver: (batch) => this.deliver(batch),
      failed: (state) => this.partitionFailed(state),
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.cluster.acquire();
    this.connected = true;
    this.unsubscribe = this.cluster.onChange(() => {
      this.expandWholeTopics();
      this.fetcher.kick();
    });
    this.cluster.addInterest(this.topics());
    this.expandWholeTopics();
    this.fetcher.start();
  }

  /** Stops, then lets go of the connections. */
  async disconnect(): Promise<void> {
    await this.stop();
    if (!this.connected) return;
    this.connected = false;
    this.fetcher.stop();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cluster.release();
  }

  // ---- assignment and positions ----------------------------------------------------------------

  /**
   * Replaces the assignment. `{ topic, partition }` assigns one partition, `{ topic }` all of the
   * topic's partitions (once its metadata is known); `offset` says where to start (default
   * 'latest', or 'earliest' with fromBeginning). Partitions kept from the old assignment keep
   * their positions.
   */
  assign(assignments: Assignment[]): void {
    const wanted = new Map<string, { topic: string; partition: number; offset: SeekOffset | undefined }>();
    this.wholeTopics.clear();
    for (const a of assignments) {
      if (typeof a.topic !== 'string' || a.topic === '') throw new RillError(Errors.INVALID_REQUEST, 'assign() needs a topic for every entry');
      if (a.partition === undefined) {
        this.wholeTopics.set(a.topic, a.offset);
        continue;
      }
      if (!Number.isSafeInteger(a.partition) || a.partition < 0) throw new RillError(Errors.INVALID_REQUEST, `partition must be a non-negative integer, got ${String(a.partition)}`);
      wanted.set(key(a.topic, a.partition), { topic: a.topic, partition: a.partition, offset: a.offset });
    }
    for (const [k, state] of this.states) {
      if (wanted.has(k) || this.wholeTopics.has(state.topic)) continue;
      this.states.delete(k);
      this.dropReady(state);
    }
    for (const [k, w] of wanted) {
      const existing = this.states.get(k);
      if (existing !== undefined) {
        if (w.offset !== undefined) this.reposition(existing, w.offset);
        continue;
      }
      this.add(w.topic, w.partition, w.offset);
    }
    if (this.connected) {
      this.cluster.addInterest(this.topics());
      if (this.wholeTopics.size > 0) this.cluster.ensureTopics([...this.wholeTopics.keys()]).then(() => this.expandWholeTopics(), (error: unknown) => this.logger.warn({ err: error }, 'could not expand a whole-topic assignment yet'));
    }
    this.expandWholeTopics();
    this.fetcher.kick();
  }

  /** The assigned partitions. */
  assignment(): { topic: string; partition: number }[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** Moves a partition's position; takes effect at once, also while running. */
  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    const state = this.states.get(key(topic, partition));
    if (state === undefined) throw new RillError(Errors.INVALID_REQUEST, `cannot seek ${topic}-${partition}: it is not assigned to this consumer`, { topic, partition });
    this.reposition(state, offset);
    this.fetcher.kick();
  }

  /**
   * Moves a partition to the first message whose timestamp is at or after `timestamp` (ms), or to
   * the end of the log when there is none that recent.
   */
  async seekToTimestamp({ topic, partition, timestamp }: { topic: string; partition: number; timestamp: number }): Promise<void> {
    if (!this.connected) throw new RillDisconnectedError('the consumer is not connected: call consumer.connect() first');
    const [found] = await listOffsets(this.cluster, [{ topic, partition, timestamp }]);
    const offset = found.offset >= 0 ? found.offset : (await listOffsets(this.cluster, [{ topic, partition, timestamp: LATEST }]))[0].offset;
    this.seek({ topic, partition, offset });
  }

  /** The next offset the application will see for a partition (what a commit would store), or null. */
  position({ topic, partition }: { topic: string; partition: number }): number | null {
    const state = this.states.get(key(topic, partition));
    if (state === undefined) return null;
    const first = this.ready.find((b) => b.topic === topic && b.partition === partition && b.epoch === state.epoch);
    return first !== undefined ? first.fetchOffset : state.position;
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    for (const state of this.matching(topics)) state.paused = true;
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    for (const state of this.matching(topics)) state.paused = false;
    this.wakeWaiters();
    this.fetcher.kick();
  }

  paused(): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const s of this.states.values()) {
      if (!s.paused) continue;
      let list = byTopic.get(s.topic);
      if (list === undefined) byTopic.set(s.topic, (list = []));
      list.push(s.partition);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  private matching(topics: { topic: string; partitions?: number[] }[]): PartitionState[] {
    const out: PartitionState[] = [];
    for (const { topic, partitions } of topics) {
      for (const state of this.states.values()) {
        if (state.topic === topic && (partitions === undefined || partitions.includes(state.partition))) out.push(state);
      }
    }
    return out;
  }

  private add(topic: string, partition: number, offset: SeekOffset | undefined): void {
    const state = new PartitionState(topic, partition);
    this.states.set(key(topic, partition), state);
    this.reposition(state, offset ?? (this.fromBeginning ? 'earliest' : 'latest'));
  }

  private reposition(state: PartitionState, offset: SeekOffset): void {
    if (typeof offset === 'number') {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RillError(Errors.INVALID_REQUEST, `offset must be a non-negative integer, 'earliest' or 'latest', got ${offset}`);
      state.position = offset;
    } else if (offset === 'earliest' || offset === 'latest') {
      state.position = null;
      state.resetTo = offset === 'earliest' ? EARLIEST : LATEST;
    } else {
      throw new RillError(Errors.INVALID_REQUEST, `offset must be a non-negative integer, 'earliest' or 'latest', got ${String(offset)}`);
    }
    state.epoch++;
    state.error = null;
    state.retryAt = 0;
    state.failures = 0;
    const failed = this.failedStates.indexOf(state);
    if (failed >= 0) this.failedStates.splice(failed, 1);
    this.dropReady(state);
  }

  private topics(): string[] {
    return [...new Set([...[...this.states.values()].map((s) => s.topic), ...this.wholeTopics.keys()])];
  }

  private expandWholeTopics(): void {
    for (const [topic, offset] of this.wholeTopics) {
      const info = this.cluster.topic(topic);
      if (info === undefined || info.errorCode !== 0) continue;
      for (let p = 0; p < info.partitions.length; p++) if (!this.states.has(key(topic, p))) this.add(topic, p, offset);
    }
  }

  // ---- the queue between fetcher and application -------------------------------------------------

  private deliver(batch: FetchedBatch): void {
    this.ready.push(batch);
    this.readyBytes += batch.bytes;
    this.wakeWaiters();
  }

  private dropReady(state: PartitionState): void {
    const ready = this.ready;
    let kept = 0;
    for (let i = 0; i < ready.length; i++) {
      const b = ready[i];
      if (b.topic === state.topic && b.partition === state.partition) this.readyBytes -= b.bytes;
      else ready[kept++] = b;
    }
    ready.length = kept;
  }

  private partitionFailed(state: PartitionState): void {
    if (!this.failedStates.includes(state)) this.failedStates.push(state);
    this.wakeWaiters();
  }

  /** The next batch the application may have: oldest first, skipping paused partitions. */
  private take(): FetchedBatch | undefined {
    const ready = this.ready;
    for (let i = 0; i < ready.length; i++) {
      const batch = ready[i];
      const state = this.states.get(key(batch.topic, batch.partition));
      if (state === undefined || state.epoch !== batch.epoch) {
        ready.splice(i--, 1);
        this.readyBytes -= batch.bytes;
        continue;
      }
      if (state.paused) continue;
      ready.splice(i, 1);
      this.readyBytes -= batch.bytes;
      state.consumed = batch.nextOffset;
      this.fetcher.kick();
      return batch;
    }
    return undefined;
  }

  private takeError(): RillError | undefined {
    while (this.failedStates.length > 0) {
      const state = this.failedStates.shift()!;
      if (state.error !== null && this.states.get(key(state.topic, state.partition)) === state) return state.error;
    }
    return undefined;
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0) {
      const error = this.takeError();
      if (error !== undefined) {
        this.waiters.shift()!.reject(error);
        continue;
      }
      const batch = this.take();
      if (batch === undefined) return;
      this.waiters.shift()!.resolve({ done: false, value: batch });
    }
  }

  /** The next batch, waiting for one; done once the consumer stops. Throws a partition's error. */
  private next(): Promise<IteratorResult<FetchedBatch>> {
    if (!this.connected) return Promise.reject(new RillDisconnectedError('the consumer is not connected: call consumer.connect() first'));
    const error = this.takeError();
    if (error !== undefined) return Promise.reject(error);
    const batch = this.waiters.length === 0 ? this.take() : undefined;
    if (batch !== undefined) return Promise.resolve({ done: false, value: batch });
    this.fetcher.start();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** `for await (const batch of consumer)`: batches until stop() or disconnect(). */
  [Symbol.asyncIterator](): AsyncIterator<FetchedBatch> {
    return {
      next: () => this.next(),
      return: async () => ({ done: true, value: undefined }),
    };
  }

  // ---- run ---------------------------------------------------------------------------------------

  /** Starts consuming with the given handler; resolves once running. stop() or disconnect() end it. */
  async run(config: RunConfig): Promise<void> {
    if (!this.connected) throw new RillDisconnectedError('the consumer is not connected: call consumer.connect() first');
    if (this.running) throw new RillError(Errors.INVALID_REQUEST, 'the consumer is already running');
    if (config.eachBatch === undefined && config.eachMessage === undefined) throw new RillError(Errors.INVALID_REQUEST, 'run() needs eachMessage or eachBatch');
    this.running = true;
    this.fetcher.start();
    this.runLoop = this.loop(config).finally(() => {
      this.running = false;
      this.runLoop = null;
    });
  }

  private async loop(config: RunConfig): Promise<void> {
    let failures = 0;
    while (this.running) {
      let result: IteratorResult<FetchedBatch>;
      try {
        result = await this.next();
      } catch (error) {
        this.crash(error);
        return;
      }
      if (result.done === true || !this.running) return;
      const batch = result.value;
      const state = this.states.get(key(batch.topic, batch.partition));
      try {
        await this.handle(config, batch, state);
        failures = 0;
      } catch (error) {
        failures++;
        const failedAt = (error as { failedOffset?: number }).failedOffset ?? batch.fetchOffset;
        if (state !== undefined && this.states.get(key(state.topic, state.partition)) === state) this.reposition(state, failedAt);
        if (failures > this.retry.retries) {
          this.crash((error as { cause?: unknown }).cause ?? error);
          return;
        }
        const wait = this.retry.delay(failures);
        this.logger.warn({ err: (error as { cause?: unknown }).cause ?? error, topic: batch.topic, partition: batch.partition, retry: failures, delayMs: wait }, 'a message handler failed; retrying');
        await sleep(wait);
        this.fetcher.kick();
      }
    }
  }

  private async handle(config: RunConfig, batch: FetchedBatch, state: PartitionState | undefined): Promise<void> {
    const epoch = batch.epoch;
    const stale = () => state === undefined || state.epoch !== epoch || state.paused;
    if (config.eachBatch !== undefined) {
      try {
        await config.eachBatch({ batch, isRunning: () => this.running, isStale: stale });
      } catch (error) {
        throw handlerFailure(error, batch.fetchOffset);
      }
      return;
    }
    const messages = batch.messages;
    const each = config.eachMessage!;
    const { topic, partition } = batch;
    for (let i = 0; i < messages.length; i++) {
      if (!this.running || stale()) {
        // Sought, paused or stopped mid-batch: the rest is fetched again from the new position.
        if (state !== undefined && state.epoch === epoch && this.running) this.reposition(state, messages[i].offset);
        return;
      }
      try {
        await each({ topic, partition, message: messages[i] });
      } catch (error) {
        throw handlerFailure(error, messages[i].offset);
      }
    }
  }

  private crash(error: unknown): void {
    this.running = false;
    this.logger.error({ err: error }, 'the consumer crashed');
    this.emit('crash', { error });
  }

  /**
   * Stops run() (after the message or batch in hand) and ends every iteration; every partition is
   * rewound to the first message the application has not been handed.
   */
  async stop(): Promise<void> {
    this.running = false;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
    const loop = this.runLoop;
    if (loop !== null) await loop;
    this.fetcher.stop();
    for (const batch of this.ready) {
      const state = this.states.get(key(batch.topic, batch.partition));
      if (state !== undefined && state.epoch === batch.epoch && state.position !== null) state.position = Math.min(state.position, batch.fetchOffset);
    }
    for (const state of this.states.values()) {
      state.epoch++; // answers of fetches still in flight are stale now
      state.fetchingEpoch = -1;
    }
    this.ready.length = 0;
    this.readyBytes = 0;
  }
}

function handlerFailure(error: unknown, failedOffset: number): Error & { failedOffset: number } {
  return Object.assign(new Error('message handler failed', { cause: error }), { failedOffset });
}
