// Sends the producer's batches: drains dirty partitions into Produce requests to their leaders,
// and handles the answers: success, retry with backoff, failure, and for idempotent producers the
// sequence and epoch transitions of idempotence.ts. Application thread; one per producer.
//
// Per partition, at most maxInFlight batches are out at once (5 at most when idempotent: the
// broker remembers the last 5 batches per producer and partition). One Produce frame carries one
// batch of one partition (api-produce.ts); frames for the same leader queued in one turn of the
// event loop leave in one writev (the connection corks until the end of the tick).
//
// Ordering. A partition whose batch failed sends nothing new until every batch it has in flight has
// come back; then the batches to retry go out again in their original order, ahead of anything
// newer. So a retry never overtakes a later batch, with or without idempotence, and with
// idempotence the broker sees the original sequences in the original order.
//
// Failures: the retry policy's backoff applies per partition (retryAt). Stale-metadata errors also
// ask the cluster for fresh metadata, so the retry goes to the new leader. When a batch has used
// up its retries on a retriable error (the leader is unreachable), the partition's queued batches
// fail with it rather than each starting its own round of retries against the same dead broker.

import { Errors, RillError } from '../errors.js';
import { ApiKeys, type ProduceResponse } from '../protocol/index.js';
import { type Cluster } from './cluster.js';
import { RillProducerFencedError, errorFromCode, isStaleMetadata, suggestsLeaderMoved } from './errors.js';
import { PartitionSequence, classifyFailure, sameIdentity, type ProducerIdentity } from './idempotence.js';
import { type ClientLogger } from './logger.js';
import { type ProducerBatch } from './producer-batch.js';
import { type PartitionQueue, type RecordAccumulator } from './record-accumulator.js';
import { type RetryPolicy } from './retry.js';

export interface SenderOptions {
  cluster: Cluster;
  accumulator: RecordAccumulator;
  retry: RetryPolicy;
  maxInFlight: number;
  requestTimeoutMs: number;
  idempotent: boolean;
  logger: ClientLogger;
  /** The producer's current id and epoch (idempotent producers). */
  identity: () => ProducerIdentity;
  /** Bumps the epoch if it is still `from` (coalesced); resolves once the identity is newer. */
  bumpEpoch: (from: ProducerIdentity) => Promise<void>;
  /** The producer is fenced: fail everything. */
  onFatal: (error: RillError) => void;
  /** A batch settled: its memory may be reused. */
  onSettled: (batch: ProducerBatch) => void;
}

export class Sender {
  private readonly options: SenderOptions;
  private readonly accumulator: RecordAccumulator;
  private readonly cluster: Cluster;
  private scheduled = false;
  private stopped = false;
  /** flush() calls under way: open batches are sendable at once while it is above 0. */
  flushing = 0;

  constructor(options: SenderOptions) {
    this.options = options;
    this.accumulator = options.accumulator;
    this.cluster = options.cluster;
  }

  /** Schedules a drain of the dirty partitions after the current turn of the event loop. */
  readonly wake = (): void => {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.drainAll);
  };

  private readonly drainAll = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    const dirty = this.accumulator.dirty;
    if (dirty.size === 0) return;
    const queues = [...dirty];
    dirty.clear();
    for (const queue of queues) this.drain(queue);
  };

  private markDirty(queue: PartitionQueue): void {
    this.accumulator.markDirty(queue);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Sends what the partition may send now. */
  private drain(queue: PartitionQueue): void {
    if (queue.waiting) return;
    if (queue.recovering) {
      if (queue.inFlight.length > 0) return;
      if (queue.sequence !== null && queue.sequence.needsReset) {
        this.resetSequence(queue);
        return;
      }
      queue.recovering = false;
    }
    const now = Date.now();
    if (queue.retryAt > now) {
      queue.retryTimer ??= setTimeout(() => {
        queue.retryTimer = null;
        this.markDirty(queue);
      }, queue.retryAt - now);
      return;
    }
    const { cluster } = this;
    const cap = this.options.maxInFlight;
    while (queue.inFlight.length < cap) {
      let batch: ProducerBatch | undefined = queue.queued[0];
      if (batch === undefined) {
        const open = queue.open;
        if (open === null || !(this.flushing > 0 || this.accumulator.isSendable(open, now))) return;
        queue.close();
        batch = open;
      }
      const leader = cluster.leaderOf(queue.topic, queue.partition);
      const connection = leader < 0 ? undefined : cluster.readyConnection(leader);
      if (connection === undefined) {
        this.awaitLeader(queue, leader);
        return;
      }
      queue.queued.shift();
      if (this.options.idempotent) this.stamp(queue, batch);
      queue.inFlight.push(batch);
      const header = { topic: queue.topic, partition: queue.partition, acks: batch.acks, timeoutMs: this.options.requestTimeoutMs };
      if (batch.acks === 0) {
        connection.sendWithoutResponse(ApiKeys.Produce, header, batch.bytes(), (error) => this.onAnswer(queue, batch!, error, null));
      } else {
        connection.send(ApiKeys.Produce, header, batch.bytes(), this.clientTimeoutMs(), (error, response) => this.onAnswer(queue, batch!, error, response === null ? null : response.header));
      }
    }
  }

  /** The broker gets requestTimeoutMs to answer; the client waits a little longer for that answer. */
  private clientTimeoutMs(): number {
    const timeout = this.options.requestTimeoutMs;
    return timeout + Math.min(5_000, timeout);
  }

  /** Gives the next batch its producer id, epoch and first sequence, if it has none yet. */
  private stamp(queue: PartitionQueue, batch: ProducerBatch): void {
    if (batch.isStamped) return;
    const identity = this.options.identity();
    if (queue.sequence === null) queue.sequence = new PartitionSequence(identity);
    // A newer epoch is adopted only with nothing in flight under the old one (the queued batches
    // behind an unstamped head are unstamped too).
    else if (!sameIdentity(queue.sequence.identity, identity) && queue.inFlight.length === 0) queue.sequence.adopt(identity);
    const { producerId, producerEpoch } = queue.sequence.identity;
    batch.stamp(producerId, producerEpoch, queue.sequence.assign(batch.recordCount));
  }

  /** No leader known, or no open connection to it: connect (or refresh), then drain again. */
  private awaitLeader(queue: PartitionQueue, leader: number): void {
    const head = queue.queued[0];
    if (leader < 0) {
      this.cluster.requestRefresh();
      this.failAttempt(queue, head, this.cluster.noLeaderError(queue.topic, queue.partition));
      return;
    }
    queue.waiting = true;
    this.cluster.connection(leader).then(
      () => {
        queue.waiting = false;
        this.markDirty(queue);
      },
      (error: unknown) => {
        queue.waiting = false;
        // The leader we know cannot be reached: it may have died and been replaced (as Kafka's
        // client does, ask for the metadata again rather than retry a dead node until it returns).
        this.cluster.requestRefresh();
        this.failAttempt(queue, queue.queued[0], error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, String(error)));
      },
    );
  }

  /** A batch that could not even be sent counts a failed attempt; backoff, or give up. */
  private failAttempt(queue: PartitionQueue, batch: ProducerBatch | undefined, error: RillError): void {
    if (batch === undefined || this.stopped) return;
    batch.attempts++;
    if (error.retriable && this.options.retry.canRetry(batch.attempts)) {
      this.logRetry(queue, batch, error);
      queue.retryAt = Math.max(queue.retryAt, Date.now() + this.options.retry.delay(batch.attempts));
    } else {
      this.failQueued(queue, error);
    }
    this.markDirty(queue);
  }

  private onAnswer(queue: PartitionQueue, batch: ProducerBatch, error: RillError | null, header: ProduceResponse | null): void {
    if (this.stopped) return; // the producer is gone (fenced or disconnected); its batches were settled then
    const inFlight = queue.inFlight;
    const at = inFlight.indexOf(batch);
    if (at < 0) return;
    inFlight.splice(at, 1);
    if (error === null && (header === null || header.errorCode === 0)) {
      batch.succeed(header === null ? -1 : header.baseOffset, header === null ? -1 : header.logAppendTime, header === null ? -1 : header.logStartOffset);
      this.options.onSettled(batch);
    } else {
      if (header?.leaderId !== undefined) this.cluster.leaderMoved(queue.topic, queue.partition, header.leaderId);
      this.onFailure(queue, batch, error ?? errorFromCode(header!.errorCode, header!.message, { topic: queue.topic, partition: queue.partition }));
    }
    this.markDirty(queue);
  }

  private onFailure(queue: PartitionQueue, batch: ProducerBatch, error: RillError): void {
    const { code } = error;
    if (isStaleMetadata(code) || suggestsLeaderMoved(code)) this.cluster.requestRefresh();
    batch.attempts++;
    const olderBatchFailed = queue.queued.length > 0 && queue.queued[0].order < batch.order;
    const action = classifyFailure({
      code,
      retriable: error.retriable,
      idempotent: this.options.idempotent,
      attempts: batch.attempts,
      retries: this.options.retry.retries,
      olderBatchFailed,
    });
    switch (action) {
      case 'fatal': {
        const fenced = error instanceof RillProducerFencedError ? error : new RillProducerFencedError(error.message, { topic: queue.topic, partition: queue.partition });
        this.options.onFatal(fenced);
        // onAnswer took this batch out of inFlight, so onFatal's sweep of the queues missed it.
        batch.fail(fenced);
        this.options.onSettled(batch);
        return;
      }
      case 'retry':
      case 'retry-after-reset': {
        // A batch refused only because an older one failed does not spend an attempt.
        if (code === Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code && olderBatchFailed) batch.attempts--;
        else this.logRetry(queue, batch, error);
        queue.requeue(batch);
        queue.recovering = true;
        if (action === 'retry-after-reset') queue.sequence!.needsReset = true;
        queue.retryAt = Math.max(queue.retryAt, Date.now() + this.options.retry.delay(Math.max(1, batch.attempts)));
        return;
      }
      case 'fail':
      case 'fail-and-reset':
        this.options.logger.warn({ topic: queue.topic, partition: queue.partition, err: error, attempts: batch.attempts }, 'produce failed');
        batch.fail(error);
        this.options.onSettled(batch);
        if (action === 'fail-and-reset') {
          queue.sequence!.needsReset = true;
          queue.recovering = true;
        }
        if (error.retriable) this.failQueued(queue, error);
        return;
    }
  }

  /** Fails every batch of the partition that is not in flight: the open one and the queued ones. */
  private failQueued(queue: PartitionQueue, error: RillError): void {
    const batches = queue.queued.splice(0);
    if (queue.open !== null) batches.push(queue.open);
    queue.open = null;
    let stamped = false;
    for (const batch of batches) {
      stamped ||= batch.isStamped;
      batch.fail(error);
      this.options.onSettled(batch);
    }
    if (stamped && queue.sequence !== null) {
      queue.sequence.needsReset = true;
      queue.recovering = true;
    }
    queue.retryAt = 0;
  }

  /**
   * Restarts the partition's sequences at 0 under a newer epoch, bumping the producer's epoch first
   * if no other partition has done so since this one adopted its identity. Nothing of the partition
   * is in flight; its queued batches are re-stamped, in order, as they are sent.
   */
  private resetSequence(queue: PartitionQueue): void {
    const sequence = queue.sequence!;
    const current = this.options.identity();
    if (sameIdentity(sequence.identity, current)) {
      queue.waiting = true;
      this.options.bumpEpoch(current).then(
        () => {
          queue.waiting = false;
          this.markDirty(queue);
        },
        (error: unknown) => {
          queue.waiting = false;
          this.options.logger.warn({ err: error, topic: queue.topic, partition: queue.partition }, 'bumping the producer epoch failed; retrying');
          const head = queue.queued[0];
          if (head === undefined) {
            queue.retryAt = Date.now() + this.options.retry.delay(1);
            this.markDirty(queue);
          } else this.failAttempt(queue, head, error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, String(error)));
        },
      );
      return;
    }
    this.options.logger.info({ topic: queue.topic, partition: queue.partition, producerId: current.producerId, producerEpoch: current.producerEpoch }, 'partition restarts its sequences under a new epoch');
    sequence.adopt(current);
    for (const batch of queue.queued) batch.unstamp();
    queue.recovering = false;
    this.markDirty(queue);
  }

  private logRetry(queue: PartitionQueue, batch: ProducerBatch, error: RillError): void {
    this.options.logger.debug({ topic: queue.topic, partition: queue.partition, attempt: batch.attempts, err: error.message }, 'retrying a batch');
  }
}
