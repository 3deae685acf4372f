// The producer: send() and sendBatch() as kafkajs users know them, over the record accumulator
// (batching), the sender (requests, retries, idempotence) and the buffer pool (bounded memory).
// Application thread.
//
// The send path is synchronous and allocation-light per message: it picks the partition (an
// explicit one, the custom partitioner, murmur2 of the key, or the sticky partition), measures the
// key, value and headers, and encodes the record into its partition's open batch. A call costs one
// promise and one SendResult whatever its number of messages; nothing per message is awaited.
// It waits only when it must:
//   - for metadata of a topic it has not seen yet (retried with the retry policy);
//   - for buffer memory when bufferMemory is used up: then the call (and every call after it, to
//     keep their order) waits until acknowledged batches give memory back, at most maxBlockMs,
//     after which the call rejects with a RillTimeoutError for the messages it could not append.
// A message too large for any batch the broker accepts (its max.frame.bytes) fails its call with
// MESSAGE_TOO_LARGE without holding up the other messages; one the broker refuses (max.message.bytes)
// fails alone, in a batch of its own, since a record larger than batchBytes always gets one.
//
// Delivery: a call resolves when all of its messages are acknowledged (acks 1: by the leader;
// acks -1: by every in-sync replica of a replicated partition) or written to the socket (acks 0),
// and rejects with a RillError if any finally failed. Idempotent producers
// (idempotent: true) get a producer id on connect and never duplicate or reorder a message through
// retries, across broker restarts included (idempotence.ts).

import { Errors, RillError } from '../errors.js';
import { ApiKeys, DEFAULT_MAX_FRAME_BYTES, topicNameProblem } from '../protocol/index.js';
import { BufferPool } from './buffer-pool.js';
import { type Cluster, type PartitionInfo, type TopicInfo } from './cluster.js';
import { RillDisconnectedError, RillTimeoutError, errorFromCode } from './errors.js';
import { MAX_IN_FLIGHT_IDEMPOTENT, bumpRequest, sameIdentity, type ProducerIdentity } from './idempotence.js';
import { type ClientLogger } from './logger.js';
import { StickyPartitioner, partitionForKey } from './partitioner.js';
import { BATCH_OVERHEAD, MAX_RECORD_FRAMING_BYTES, headersSize, payloadLength, recordSize, type Payload } from './producer-batch.js';
import { RecordAccumulator } from './record-accumulator.js';
import { RetryPolicy, type RetryOptions } from './retry.js';
import { Sender } from './sender.js';
import { SendResult, type RecordMetadata } from './send-result.js';

export interface Message {
  key?: Buffer | Uint8Array | string | null;
  value: Buffer | Uint8Array | string | null;
  headers?: Record<string, Buffer | Uint8Array | string>;
  /** Send to this partition instead of letting the partitioner choose. */
  partition?: number;
  /** ms since the epoch; default: when send() was called. */
  timestamp?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: 0 | 1 | -1;
}

export interface ProducerBatchRecord {
  topicMessages: { topic: string; messages: Message[] }[];
  acks?: 0 | 1 | -1;
}

export interface PartitionerArgs {
  topic: string;
  /** The topic's partitions, indexed by partition number, with their leaders (-1: none). */
  partitionMetadata: readonly PartitionInfo[];
  message: Message;
}

/** Returns the partition for a message, in [0, partitionMetadata.length). */
export type Partitioner = (args: PartitionerArgs) => number;

export interface ProducerConfig {
  /** Exactly-once per partition through retries (producer id, epoch and sequences). Default false. */
  idempotent?: boolean;
  /** 1: a send resolves when the leader has the messages; 0: when they are written. Default 1. */
  acks?: 0 | 1 | -1;
  /** How long a batch waits for more messages before it is sent. Default 5 ms. */
  lingerMs?: number;
  /**
   * Batch size in bytes (a record larger than this gets a batch of its own). Default 16,384. A
   * partition's batches start at this size and double, up to maxBatchBytes, while they fill up
   * before lingerMs ends; one that lingers out unfilled brings the partition back to batchBytes.
   */
  batchBytes?: number;
  /** The most a busy partition's batches grow to (>= batchBytes). Default 262,144; batchBytes turns growth off. */
  maxBatchBytes?: number;
  /** Memory for batches not yet acknowledged. Default 32 MiB. */
  bufferMemory?: number;
  /** How long send() waits for buffer memory before it rejects. Default 60,000 ms. */
  maxBlockMs?: number;
  /** Batches in flight per partition (at most 5 when idempotent). Default 5. */
  maxInFlightRequests?: number;
  retry?: RetryOptions;
  /** How long the broker may take to answer a Produce. Default: the Rill's requestTimeoutMs. */
  requestTimeoutMs?: number;
  partitioner?: Partitioner;
}

export interface ProducerDefaults {
  retry: RetryOptions;
  requestTimeoutMs: number;
  logger: ClientLogger;
}

/** Default maxBatchBytes: four doublings from 16 KiB, ~2,000 records of 100 bytes per request. */
const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

const enum Appended {
  Yes,
  /** No buffer memory: the message was not appended; try again once memory comes back. */
  Blocked,
}

/** A call that could not append all its messages yet (memory, or metadata to come). */
class PendingSend {
  topicIndex = 0;
  messageIndex = 0;
  ready = true;
  failure: RillError | null = null;
  /** When it gives up waiting for memory; 0 until it first has to wait. */
  deadline = 0;

  constructor(
    readonly result: SendResult,
    readonly topicMessages: readonly { topic: string; messages: readonly Message[] }[],
    readonly acks: 0 | 1 | -1,
    readonly timestamp: number,
  ) {}
}

/** Room for the fixed part and msgpack header of a Produce frame, besides the topic name. */
const PRODUCE_FRAME_OVERHEAD = 128;

export class Producer {
  private readonly cluster: Cluster;
  private readonly logger: ClientLogger;
  private readonly retry: RetryPolicy;
  private readonly idempotent: boolean;
  private readonly acks: 0 | 1 | -1;
  private readonly maxBlockMs: number;
  private readonly partitioner: Partitioner | undefined;
  private readonly sticky = new StickyPartitioner();
  private readonly pool: BufferPool;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly pending: PendingSend[] = [];
  private blockTimer: NodeJS.Timeout | null = null;
  private connected = false;
  private connecting: Promise<void> | null = null;
  private fatal: RillError | null = null;
  private identity: ProducerIdentity = { producerId: -1, producerEpoch: -1 };
  private bumping: Promise<void> | null = null;

  constructor(cluster: Cluster, config: ProducerConfig, defaults: ProducerDefaults) {
    this.cluster = cluster;
    this.logger = defaults.logger;
    this.idempotent = config.idempotent ?? false;
    this.acks = config.acks ?? 1;
    const lingerMs = config.lingerMs ?? 5;
    const batchBytes = config.batchBytes ?? 16_384;
    const bufferMemory = config.bufferMemory ?? 32 * 1024 * 1024;
    const maxBatchBytes = config.maxBatchBytes ?? Math.max(batchBytes, Math.min(DEFAULT_MAX_BATCH_BYTES, bufferMemory));
    this.maxBlockMs = config.maxBlockMs ?? 60_000;
    const requestTimeoutMs = config.requestTimeoutMs ?? defaults.requestTimeoutMs;
    let maxInFlight = config.maxInFlightRequests ?? 5;
    invalidUnless(this.acks === 0 || this.acks === 1 || this.acks === -1, `acks must be 0, 1 or -1 (all), got ${String(this.acks)}`);
    invalidUnless(!(this.idempotent && this.acks === 0), 'an idempotent producer needs acks 1: it must hear which batches were written');
    invalidUnless(Number.isFinite(lingerMs) && lingerMs >= 0, `lingerMs must be >= 0, got ${lingerMs}`);
    invalidUnless(Number.isSafeInteger(batchBytes) && batchBytes >= BATCH_OVERHEAD + 8, `batchBytes must be an integer >= ${BATCH_OVERHEAD + 8}, got ${batchBytes}`);
    invalidUnless(Number.isSafeInteger(maxBatchBytes) && maxBatchBytes >= batchBytes, `maxBatchBytes must be an integer >= batchBytes (${batchBytes}), got ${maxBatchBytes}`);
    invalidUnless(maxBatchBytes <= bufferMemory, `maxBatchBytes (${maxBatchBytes}) must not exceed bufferMemory (${bufferMemory})`);
    invalidUnless(Number.isFinite(this.maxBlockMs) && this.maxBlockMs >= 0, `maxBlockMs must be >= 0, got ${this.maxBlockMs}`);
    invalidUnless(Number.isSafeInteger(maxInFlight) && maxInFlight >= 1, `maxInFlightRequests must be an integer >= 1, got ${maxInFlight}`);
    if (this.idempotent) maxInFlight = Math.min(maxInFlight, MAX_IN_FLIGHT_IDEMPOTENT);
    this.partitioner = config.partitioner;
    this.retry = new RetryPolicy({ ...defaults.retry, ...config.retry });
    this.pool = new BufferPool(bufferMemory, batchBytes);
    let sender: Sender | undefined;
    this.accumulator = new RecordAccumulator({ batchBytes, maxBatchBytes, lingerMs, pool: this.pool, wake: () => sender!.wake() });
    this.sender = sender = new Sender({
      cluster,
      accumulator: this.accumulator,
      retry: this.retry,
      maxInFlight,
      requestTimeoutMs,
      idempotent: this.idempotent,
      logger: this.logger,
      identity: () => this.identity,
      bumpEpoch: (from) => this.bumpEpoch(from),
      onFatal: (error) => this.die(error),
      onSettled: (batch) => this.accumulator.release(batch),
    });
    this.pool.onRelease(() => {
      if (this.pending.length > 0) this.resume();
    });
  }

  /** The producer id and epoch of an idempotent producer (-1 before connect()). */
  get producerIdentity(): ProducerIdentity {
    return this.identity;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    this.connecting ??= this.doConnect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    await this.cluster.acquire();
    try {
      if (this.idempotent && this.identity.producerId < 0) this.identity = await this.initProducerId({});
    } catch (error) {
      this.cluster.release();
      throw error;
    }
    this.connected = true;
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [record], acks: record.acks });
  }

  sendBatch(batch: ProducerBatchRecord): Promise<RecordMetadata[]> {
    if (this.fatal !== null) return Promise.reject(this.fatal);
    if (!this.connected) return Promise.reject(new RillDisconnectedError('the producer is not connected: call producer.connect() first'));
    const acks = batch.acks ?? this.acks;
    if (acks !== 0 && acks !== 1 && acks !== -1) return Promise.reject(new RillError(Errors.INVALID_REQUEST, `acks must be 0, 1 or -1 (all), got ${String(acks)}`));
    if (acks === 0 && this.idempotent) return Promise.reject(new RillError(Errors.INVALID_REQUEST, 'an idempotent producer cannot send with acks 0'));
    let unknown: string[] | null = null;
    for (const { topic, messages } of batch.topicMessages) {
      const problem = topicNameProblem(topic);
      if (problem !== undefined) return Promise.reject(new RillError(Errors.INVALID_TOPIC_EXCEPTION, `topic ${JSON.stringify(topic)} ${problem}`, { topic: String(topic) }));
      if (!Array.isArray(messages)) return Promise.reject(new RillError(Errors.INVALID_REQUEST, `messages for topic ${topic} must be an array`, { topic }));
      if (!isUsable(this.cluster.topic(topic))) (unknown ??= []).push(topic);
    }
    const result = new SendResult();
    const op = new PendingSend(result, batch.topicMessages, acks, Date.now());
    if (this.pending.length === 0 && unknown === null) {
      if (this.appendFrom(op)) {
        result.doneAppending();
        return result.promise;
      }
      this.pending.push(op);
      this.armBlockTimer();
      return result.promise;
    }
    this.pending.push(op);
    if (unknown !== null) {
      op.ready = false;
      this.cluster.ensureTopics(unknown).then(
        () => {
          op.ready = true;
          this.resume();
        },
        (error: unknown) => {
          op.ready = true;
          op.failure = error instanceof RillError ? error : new RillError(Errors.UNKNOWN_SERVER_ERROR, String(error));
          this.resume();
        },
      );
    }
    return result.promise;
  }

  /** Sends every batch now, ignoring lingerMs, and waits until every message sent so far has settled. */
  async flush(): Promise<void> {
    const calls = this.pending.map((op) => op.result.promise.catch(() => undefined));
    const batches = this.accumulator.unsettled();
    if (calls.length === 0 && batches.length === 0) return;
    this.sender.flushing++;
    try {
      for (const queue of this.accumulator.queues()) if (queue.open !== null) this.accumulator.markDirty(queue);
      const settled = new Promise<void>((resolve) => {
        let left = batches.length;
        if (left === 0) resolve();
        const wake = (): void => {
          if (--left === 0) resolve();
        };
        for (const batch of batches) (batch.waiters ??= []).push(wake);
      });
      await Promise.all([settled, ...calls]);
    } finally {
      this.sender.flushing--;
    }
  }

  /** Flushes, then lets go of the connections (the Rill keeps them while others use them). */
  async disconnect(): Promise<void> {
    if (this.connecting !== null) await this.connecting.catch(() => undefined);
    if (!this.connected) return;
    try {
      if (this.fatal === null) await this.flush();
    } finally {
      this.connected = false;
      this.sender.stop();
      this.accumulator.stop();
      if (this.blockTimer !== null) clearTimeout(this.blockTimer);
      this.blockTimer = null;
      this.cluster.release();
    }
  }

  // ---- appending ---------------------------------------------------------------------------------

  /** Appends what it can of a call; false when it ran out of buffer memory. */
  private appendFrom(op: PendingSend): boolean {
    const { topicMessages, result, acks, timestamp } = op;
    for (; op.topicIndex < topicMessages.length; op.topicIndex++, op.messageIndex = 0) {
      const { topic, messages } = topicMessages[op.topicIndex];
      const info = this.cluster.topic(topic)!;
      for (; op.messageIndex < messages.length; op.messageIndex++) {
        if (this.append(result, topic, info, messages[op.messageIndex], acks, timestamp) === Appended.Blocked) return false;
      }
    }
    return true;
  }

  private append(result: SendResult, topic: string, info: TopicInfo, message: Message, acks: 0 | 1 | -1, now: number): Appended {
    const key: Payload = message.key;
    const value: Payload = message.value;
    const headers = message.headers as Record<string, Payload> | undefined;
    const keyLength = payloadLength(key);
    const valueLength = payloadLength(value);
    const headerBytes = headers === undefined ? 1 : headersSize(headers);
    const timestamp = message.timestamp ?? now;
    const numPartitions = info.partitions.length;

    let partition: number;
    let sticky = false;
    if (message.partition !== undefined) partition = message.partition;
    else if (this.partitioner !== undefined) partition = this.partitioner({ topic, partitionMetadata: info.partitions, message });
    else if (keyLength >= 0) partition = partitionForKey(key as Uint8Array | string, numPartitions);
    else {
      partition = this.sticky.partition(topic, numPartitions, info.partitions);
      sticky = true;
    }
    if (!(Number.isInteger(partition) && partition >= 0 && partition < numPartitions)) {
      result.fail(new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic} has partitions 0 to ${numPartitions - 1}; a message was sent to partition ${String(partition)}`, { topic }));
      return Appended.Yes;
    }

    // A message no Produce frame can carry fails alone, before it touches (and closes) an open batch.
    // The exact size is worked out only for messages near the limit.
    const limit = this.batchLimit(topic);
    const payloadBytes = Math.max(0, keyLength) + Math.max(0, valueLength) + headerBytes;
    const firstRecordBytes = payloadBytes + MAX_RECORD_FRAMING_BYTES + BATCH_OVERHEAD < limit ? 0 : BATCH_OVERHEAD + recordSize(0, 0, keyLength, valueLength, headerBytes);
    if (firstRecordBytes > limit) {
      result.fail(
        new RillError(Errors.MESSAGE_TOO_LARGE, `a message of ${firstRecordBytes} bytes (as a batch) for ${topic} exceeds the ${limit} bytes a Produce to the broker can carry`, {
          topic,
          partition,
          bytes: firstRecordBytes,
        }),
      );
      return Appended.Yes;
    }

    const accumulator = this.accumulator;
    let queue = accumulator.queue(topic, partition);
    if (accumulator.tryAppend(queue, acks, result, timestamp, key, keyLength, value, valueLength, headers, headerBytes)) return Appended.Yes;
    if (sticky) {
      // KIP-480: the sticky partition needs a new batch, so move to another partition.
      partition = this.sticky.onNewBatch(topic, numPartitions, partition, info.partitions);
      queue = accumulator.queue(topic, partition);
      if (accumulator.tryAppend(queue, acks, result, timestamp, key, keyLength, value, valueLength, headers, headerBytes)) return Appended.Yes;
    }
    const firstBytes = firstRecordBytes > 0 ? firstRecordBytes : BATCH_OVERHEAD + recordSize(0, 0, keyLength, valueLength, headerBytes);
    // Batches grow within what the topic's brokers accept (Metadata's maxBatchBytes); a broker
    // that does not say gets batches of batchBytes, as before batches grew.
    const room = Math.min(limit, info.maxBatchBytes ?? this.accumulator.batchBytes);
    if (!accumulator.openBatch(queue, acks, firstBytes, room)) return Appended.Blocked;
    accumulator.tryAppend(queue, acks, result, timestamp, key, keyLength, value, valueLength, headers, headerBytes);
    return Appended.Yes;
  }

  /** The largest batch whose Produce frame fits the brokers' max.frame.bytes. */
  private batchLimit(topic: string): number {
    const frame = this.cluster.isConnected ? this.cluster.brokerMaxFrameBytes() : DEFAULT_MAX_FRAME_BYTES;
    return frame - PRODUCE_FRAME_OVERHEAD - topic.length;
  }

  /** Continues the calls that waited, in order, as far as memory and metadata allow. */
  private resume(): void {
    const pending = this.pending;
    while (pending.length > 0) {
      const op = pending[0];
      if (op.failure === null && this.fatal !== null) op.failure = this.fatal;
      if (op.failure !== null) {
        pending.shift();
        op.result.fail(op.failure);
        op.result.doneAppending();
        continue;
      }
      if (!op.ready) break;
      if (!this.appendFrom(op)) {
        this.armBlockTimer();
        break;
      }
      pending.shift();
      op.result.doneAppending();
    }
    if (pending.length === 0 && this.blockTimer !== null) {
      clearTimeout(this.blockTimer);
      this.blockTimer = null;
    }
  }

  /** Times out the call at the head of the line when it has waited maxBlockMs for memory. */
  private armBlockTimer(): void {
    const head = this.pending[0];
    if (head === undefined || this.blockTimer !== null) return;
    if (head.deadline === 0) head.deadline = Date.now() + this.maxBlockMs;
    this.blockTimer = setTimeout(() => {
      this.blockTimer = null;
      const op = this.pending[0];
      if (op === undefined) return;
      if (op === head) {
        op.failure = new RillTimeoutError(
          `send() waited ${this.maxBlockMs} ms (maxBlockMs) for buffer memory: ${this.pool.usedBytes} of ${this.pool.totalBytes} bytes are held by batches not yet acknowledged`,
          { maxBlockMs: this.maxBlockMs },
        );
      }
      this.resume();
      if (this.pending.length > 0) this.armBlockTimer();
    }, Math.max(0, head.deadline - Date.now()));
  }

  // ---- idempotence -------------------------------------------------------------------------------

  private async initProducerId(request: { producerId?: number; producerEpoch?: number }): Promise<ProducerIdentity> {
    return this.retry.run(async () => {
      const connection = await this.cluster.anyConnection();
      const response = await connection.request(ApiKeys.InitProducerId, request);
      const { errorCode, message, producerId, producerEpoch } = response.header;
      if (errorCode !== 0) throw errorFromCode(errorCode, message ?? 'InitProducerId failed');
      return { producerId, producerEpoch };
    });
  }

  private bumpEpoch(from: ProducerIdentity): Promise<void> {
    if (!sameIdentity(from, this.identity)) return Promise.resolve();
    this.bumping ??= this.initProducerId(bumpRequest(from))
      .then((identity) => {
        this.logger.info({ from, to: identity }, 'bumped the producer epoch');
        this.identity = identity;
      })
      .finally(() => (this.bumping = null));
    return this.bumping;
  }

  /** Fenced: every batch and waiting call fails, and so does every later send. */
  private die(error: RillError): void {
    if (this.fatal !== null) return;
    this.fatal = error;
    this.logger.error({ err: error }, 'the producer was fenced');
    this.sender.stop();
    this.accumulator.stop();
    for (const queue of this.accumulator.queues()) {
      const batches = [...queue.inFlight.splice(0), ...queue.queued.splice(0)];
      if (queue.open !== null) batches.push(queue.open);
      queue.open = null;
      for (const batch of batches) {
        batch.fail(error);
        this.accumulator.release(batch);
      }
    }
    this.resume();
  }
}

function invalidUnless(condition: boolean, message: string): void {
  if (!condition) throw new RillError(Errors.INVALID_CONFIG, message);
}

function isUsable(info: TopicInfo | undefined): info is TopicInfo {
  return info !== undefined && info.errorCode === 0 && info.partitions.length > 0;
}
