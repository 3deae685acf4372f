// The producer's batches, per partition, from the first record appended to the answer: the open
// batch that takes new records, the batches waiting to be sent (in order), and those in flight.
// Application thread; one per producer.
//
// Kafka's RecordAccumulator, single-threaded: send() appends to a partition's open batch; the batch
// is closed when it is full (batchBytes) and becomes sendable when lingerMs has passed since it was
// opened (at once with lingerMs 0), or when flush() asks. The sender drains partitions marked
// dirty, so nothing walks every partition per event. A closed batch that cannot be sent yet (its
// partition has maxInFlight batches out) waits in `queued`; an open one keeps filling meanwhile, so
// batches grow when the broker is slow and requests stay few.
//
// Batches are opened in time order and all linger equally long, so their deadlines arrive in the
// order they were opened: one FIFO and one timer serve every partition.
//
// Batch sizes adapt per partition, between batchBytes and maxBatchBytes (the idea of Kafka's
// KIP-782). A Rill Produce request carries one partition's batch, so the broker's cost per request
// is paid per batch: a producer flooding a partition in 16 KiB batches sent ~7,700 requests per
// million 100-byte messages and spent most of its time waiting on them. A batch that fills up
// before its linger ends means the partition has more to send: its next batch gets twice the
// room, up to maxBatchBytes and never past what the topic's brokers accept (the producer passes
// that as openBatch's limit). A batch that lingers out unfilled resets the partition to
// batchBytes, so a quiet partition holds no more memory than before, and bufferMemory bounds
// them all as it did.

import { type BufferPool } from './buffer-pool.js';
import { PartitionSequence } from './idempotence.js';
import { ProducerBatch, type BatchSegmentOwner, type Payload } from './producer-batch.js';

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** Takes new records; not yet sendable unless it lingered long enough. */
  open: ProducerBatch | null = null;
  /** Closed batches (and batches to retry) waiting to be sent, oldest first. */
  readonly queued: ProducerBatch[] = [];
  /** Sent and not yet answered, in the order sent. */
  readonly inFlight: ProducerBatch[] = [];
  /** A batch failed: nothing new is sent until every in-flight batch has come back. */
  recovering = false;
  /** No send before this time (Date.now()): the backoff of a retry. */
  retryAt = 0;
  retryTimer: NodeJS.Timeout | null = null;
  /** Waiting for a connection or an epoch bump, which drains the partition when it is done. */
  waiting = false;
  /** Idempotent producers only. */
  sequence: PartitionSequence | null = null;
  /** Room for the next batch opened here (grows while batches fill up; see the top). */
  nextBatchBytes: number;

  constructor(topic: string, partition: number, batchBytes: number) {
    this.topic = topic;
    this.partition = partition;
    this.nextBatchBytes = batchBytes;
  }

  get isIdle(): boolean {
    return this.open === null && this.queued.length === 0 && this.inFlight.length === 0;
  }

  /** Puts a batch back among the queued ones at its place in creation order. */
  requeue(batch: ProducerBatch): void {
    const queued = this.queued;
    let i = queued.length;
    while (i > 0 && queued[i - 1].order > batch.order) i--;
    queued.splice(i, 0, batch);
  }

  /** Closes the open batch: it waits in `queued` from now on. */
  close(): void {
    if (this.open === null) return;
    this.queued.push(this.open);
    this.open = null;
  }
}

export interface AccumulatorOptions {
  /** Room of a partition's first batch, and of every batch after one that lingered out unfilled. */
  batchBytes: number;
  /** The most a busy partition's batches grow to (>= batchBytes; default batchBytes: no growth). */
  maxBatchBytes?: number;
  lingerMs: number;
  pool: BufferPool;
  /** Called when a partition has become dirty and no drain is scheduled yet. */
  wake: () => void;
}

export class RecordAccumulator {
  readonly batchBytes: number;
  readonly maxBatchBytes: number;
  readonly lingerMs: number;
  private readonly pool: BufferPool;
  private readonly wake: () => void;
  private readonly topics = new Map<string, PartitionQueue[]>();
  /** Partitions with something to send, for the sender's next drain. */
  readonly dirty = new Set<PartitionQueue>();
  /** Open batches in the order they were opened, for lingerMs. */
  private readonly lingering: ProducerBatch[] = [];
  private lingeringHead = 0;
  private lingerTimer: NodeJS.Timeout | null = null;
  private nextOrder = 0;

  constructor(options: AccumulatorOptions) {
    this.batchBytes = options.batchBytes;
    this.maxBatchBytes = Math.max(options.batchBytes, options.maxBatchBytes ?? options.batchBytes);
    this.lingerMs = options.lingerMs;
    this.pool = options.pool;
    this.wake = options.wake;
  }

  queue(topic: string, partition: number): PartitionQueue {
    let queues = this.topics.get(topic);
    if (queues === undefined) this.topics.set(topic, (queues = []));
    return (queues[partition] ??= new PartitionQueue(topic, partition, this.batchBytes));
  }

  *queues(): Iterable<PartitionQueue> {
    for (const queues of this.topics.values()) for (const queue of queues) if (queue !== undefined) yield queue;
  }

  markDirty(queue: PartitionQueue): void {
    this.dirty.add(queue);
    this.wake();
  }

  /**
   * Appends to the partition's open batch if it has room and the same acks. Otherwise the open
   * batch (full, or of other acks) is closed, so it goes out now rather than after lingerMs, and
   * the answer is false: the caller opens a new batch, here or on another partition.
   */
  tryAppend(
    queue: PartitionQueue,
    acks: 0 | 1 | -1,
    owner: BatchSegmentOwner,
    timestamp: number,
    key: Payload,
    keyLength: number,
    value: Payload,
    valueLength: number,
    headers: Record<string, Payload> | undefined,
    headerBytes: number,
  ): boolean {
    const open = queue.open;
    if (open === null) return false;
    if (open.acks === acks) {
      if (open.tryAppend(owner, timestamp, key, keyLength, value, valueLength, headers, headerBytes)) return true;
      // Full before its linger ended: the partition is busy, its next batch gets more room.
      if (open.recordCount > 0) queue.nextBatchBytes = Math.min(this.maxBatchBytes, Math.max(queue.nextBatchBytes, open.limit) * 2);
    }
    queue.close();
    this.markDirty(queue);
    return false;
  }

  /**
   * Closes the partition's open batch (if any) and opens a new one able to hold a first record of
   * `firstRecordBytes` (header included), at most `limit` bytes otherwise. False, changing nothing,
   * when bufferMemory is used up.
   */
  openBatch(queue: PartitionQueue, acks: 0 | 1 | -1, firstRecordBytes: number, limit: number): boolean {
    let room = Math.min(queue.nextBatchBytes, limit);
    let buffer = this.pool.tryAllocate(Math.max(room, firstRecordBytes));
    if (buffer === null && room > this.batchBytes) {
      // No memory for a grown batch: one of the usual size, rather than making send() wait.
      room = Math.min(this.batchBytes, limit);
      buffer = this.pool.tryAllocate(Math.max(room, firstRecordBytes));
    }
    if (buffer === null) return false;
    if (queue.open !== null) {
      queue.close();
      this.dirty.add(queue);
    }
    const now = Date.now();
    const batch = new ProducerBatch(queue.topic, queue.partition, acks, buffer, room, now, this.nextOrder++);
    queue.open = batch;
    if (this.lingerMs > 0) {
      this.lingering.push(batch);
      if (this.lingerTimer === null) this.armLinger(now);
      if (this.dirty.size > 0) this.wake();
    } else {
      this.markDirty(queue);
    }
    return true;
  }

  /** Whether an open batch may be sent now: it lingered long enough, or lingerMs is 0. */
  isSendable(batch: ProducerBatch, now: number): boolean {
    return now - batch.createdAt >= this.lingerMs;
  }

  private armLinger(now: number): void {
    const head = this.lingering[this.lingeringHead];
    if (head === undefined) return;
    this.lingerTimer = setTimeout(() => this.onLinger(), Math.max(0, head.createdAt + this.lingerMs - now));
  }

  private onLinger(): void {
    this.lingerTimer = null;
    const now = Date.now();
    const lingering = this.lingering;
    while (this.lingeringHead < lingering.length && now - lingering[this.lingeringHead].createdAt >= this.lingerMs) {
      const batch = lingering[this.lingeringHead++];
      const queue = this.queue(batch.topic, batch.partition);
      if (queue.open === batch) {
        // Lingered out unfilled: the partition is not that busy, back to batchBytes.
        queue.nextBatchBytes = this.batchBytes;
        this.dirty.add(queue);
      }
    }
    if (this.lingeringHead > 1024 && this.lingeringHead * 2 > lingering.length) {
      lingering.splice(0, this.lingeringHead);
      this.lingeringHead = 0;
    }
    if (this.dirty.size > 0) this.wake();
    this.armLinger(now);
  }

  /** Every batch not yet settled. */
  unsettled(): ProducerBatch[] {
    const batches: ProducerBatch[] = [];
    for (const queue of this.queues()) {
      if (queue.open !== null) batches.push(queue.open);
      batches.push(...queue.queued, ...queue.inFlight);
    }
    return batches;
  }

  /** Returns a settled batch's memory. */
  release(batch: ProducerBatch): void {
    this.pool.release(batch.buffer);
  }

  stop(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    for (const queue of this.queues()) {
      if (queue.retryTimer !== null) clearTimeout(queue.retryTimer);
      queue.retryTimer = null;
    }
  }
}
