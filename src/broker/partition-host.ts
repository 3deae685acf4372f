// The partition logs one worker owns, and the operations requests make on them. Worker thread
// only: a partition is opened by exactly one host, on its owner worker, so its log has one writer.
//
// Methods take and return plain data and throw RillErrors; the worker's request loop turns those
// into wire codes. Nothing here queues without a bound: fetch waiters are bounded by the fetch
// requests in flight, which the network front bounds per connection.

import { Errors, RillError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { compacts, isCleanSkip, PartitionLog, type LogConfig, type RetentionResult } from '../storage/index.js';

export interface PartitionSpec {
  topic: string;
  partition: number;
  dir: string;
  config: LogConfig;
  /**
   * A replicated partition (cluster): until its replica role is attached (applyLeadership), it
   * refuses produce with NOT_LEADER_OR_FOLLOWER and shows consumers nothing, rather than append in
   * a leader epoch nobody granted.
   */
  replicated?: boolean;
}

export interface PartitionStatus {
  topic: string;
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  flushedOffset: number;
  size: number;
  segments: number;
  /** fdatasync rounds so far and the seconds they took, summed. */
  flushes: number;
  flushSeconds: number;
  /** Replicated partitions only (replication/replica-manager.ts). */
  replication?: { role: 'leader' | 'follower'; leader: number; leaderEpoch: number; isr: readonly number[]; highWatermark: number; underReplicated: boolean; followers?: { replica: number; logEndOffset: number }[] };
}

export interface ProduceResult {
  baseOffset: number;
  lastOffset: number;
  logStartOffset: number;
}

export interface FetchSlice {
  /** Whole batches; a view into the segment mapping, valid until the host yields. */
  records: Uint8Array;
  /** Where the bytes live, so the main thread can send them from its own mapping. */
  file: string | null;
  /** Inode of `file`: which file `position` is in (see SegmentMappings). */
  fileId: number;
  position: number;
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

/** 0: no answer; 1: the leader has it; -1 (all): every in-sync replica has it (replication/). */
export type Acks = 0 | 1 | -1;

/** Default wait of an acks=all produce for replication when the request names none. */
const DEFAULT_PRODUCE_TIMEOUT_MS = 30_000;

/**
 * A replicated partition's role (replication/partition-replica.ts), consulted only for partitions
 * that have one attached: a single-node partition keeps high watermark = log end at no cost.
 */
export interface ReplicaHooks {
  /** What consumers may read up to. */
  readonly highWatermark: number;
  /** Before appending: throws NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, TOO_MANY_PENDING_ACKS. */
  beforeAppend(acks: Acks): void;
  /** After appending up to `end`: null, or what an acks=all produce must wait for. */
  afterAppend(end: number, acks: Acks, timeoutMs: number): Promise<void> | null;
}

/** The stand-in role of a replicated partition before metadata gave it one. */
const AWAITING_LEADERSHIP: ReplicaHooks = Object.freeze({
  highWatermark: 0,
  beforeAppend(): void {
    throw new RillError(Errors.NOT_LEADER_OR_FOLLOWER, 'this replica has not been told its role yet; refresh metadata and retry');
  },
  afterAppend(): null {
    return null;
  },
});

interface Hosted {
  log: PartitionLog;
  /** Fetches waiting for an offset beyond the end: woken by the next append. */
  waiters: Set<() => void>;
  /** Set for replicated partitions (attachReplica). */
  replica: ReplicaHooks | null;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** A long poll in progress (waitForAny). */
export interface DataWait {
  /** Resolves when the wait is over, for whatever reason. */
  readonly done: Promise<void>;
  /** Ends the wait now (idempotent). */
  end(): void;
}

export class PartitionHost {
  private readonly partitions = new Map<string, Hosted>();
  private readonly logger: Logger;

  constructor(logger: Logger = silentLogger) {
    this.logger = logger;
  }

  get size(): number {
    return this.partitions.size;
  }

  /** Long polls waiting for data, over all partitions. */
  get waiting(): number {
    let n = 0;
    for (const hosted of this.partitions.values()) n += hosted.waiters.size;
    return n;
  }

  /** Opens (and if needed recovers) a partition's log; opening an open partition is a no-op. */
  async open(spec: PartitionSpec): Promise<PartitionStatus> {
    const existing = this.partitions.get(key(spec.topic, spec.partition));
    if (existing !== undefined) return status(spec.topic, spec.partition, existing.log);
    const log = await PartitionLog.open(spec.dir, { config: spec.config, logger: this.logger.child({ topic: spec.topic, partition: spec.partition }) });
    // A partition without replication leads itself, in epoch 0, from the start. Recording the
    // epoch now (the leader-epoch checkpoint: a file write and two fsyncs) keeps that write off
    // its first produce: with 1,000 fresh partitions, first appends on an owner queued behind
    // each other's fsyncs for seconds (ack p99 1-2 s at 10 msgs/s per partition). Kafka records
    // a new epoch when a replica becomes leader (Partition.makeLeader), not at its first append.
    // Replicated partitions take their epochs from leadership (replication/).
    if (spec.replicated !== true && log.latestEpoch < log.leaderEpoch) log.becomeLeader(log.leaderEpoch);
    this.partitions.set(key(spec.topic, spec.partition), { log, waiters: new Set(), replica: spec.replicated === true ? AWAITING_LEADERSHIP : null });
    if (log.recovery.scannedBytes > 0 || log.recovery.truncated !== null) {
      this.logger.info({ topic: spec.topic, partition: spec.partition, recovery: log.recovery }, 'recovered partition');
    }
    return status(spec.topic, spec.partition, log);
  }

  private hosted(topic: string, partition: number): Hosted {
    const hosted = this.partitions.get(key(topic, partition));
    if (hosted === undefined) {
      throw new RillError(Errors.UNKNOWN_TOPIC_OR_PARTITION, `partition ${topic}-${partition} is not hosted here`, { topic, partition });
    }
    return hosted;
  }

  /** The log of a hosted partition (for the replication layer on this thread). */
  logOf(topic: string, partition: number): PartitionLog {
    return this.hosted(topic, partition).log;
  }

  /** Makes a partition replicated (its role decides produce and the high watermark), or not (null). */
  attachReplica(topic: string, partition: number, replica: ReplicaHooks | null): void {
    this.hosted(topic, partition).replica = replica;
  }

  /** Wakes the long polls on a partition (its high watermark moved). */
  wakeWaiters(topic: string, partition: number): void {
    const hosted = this.partitions.get(key(topic, partition));
    if (hosted !== undefined) this.wake(hosted);
  }

  /** Closes a partition's log cleanly (flush, clean-shutdown checkpoint); unknown ones are ignored. */
  async close(topic: string, partition: number): Promise<void> {
    const hosted = this.partitions.get(key(topic, partition));
    if (hosted === undefined) return;
    this.partitions.delete(key(topic, partition));
    for (const wake of hosted.waiters) wake();
    await hosted.log.close();
  }

  /** Closes every partition (shutdown); reports failures but closes the rest regardless. */
  async closeAll(): Promise<void> {
    const results = await Promise.allSettled([...this.partitions.keys()].map((k) => this.close(...fromKey(k))));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'closing a partition failed');
    }
  }

  /**
   * Appends a record set. acks=1 resolves once the log accepted it: in the page cache with
   * flush.mode=async, fdatasynced with flush.mode=sync. acks=0 resolves as soon as the bytes are
   * written (null: there is no response to send); a failure still throws, so that the network
   * front can close the connection as Kafka does, the one signal an acks=0 producer gets.
   */
  async produce(topic: string, partition: number, records: Uint8Array, acks: Acks, timeoutMs = DEFAULT_PRODUCE_TIMEOUT_MS): Promise<ProduceResult | null> {
    const hosted = this.hosted(topic, partition);
    const log = hosted.log;
    const replica = hosted.replica;
    replica?.beforeAppend(acks);
    const result = log.write(records);
    this.wake(hosted);
    const replicated = replica?.afterAppend(result.lastOffset + 1, acks, timeoutMs) ?? null;
    if (acks === 0) return null;
    // Both waits at once, each with a handler attached, so neither rejection goes unhandled.
    const waits: Promise<void>[] = replicated === null ? [] : [replicated];
    if (log.config.flushMode === 'sync') waits.push(log.waitForDurable(result.lastOffset + 1));
    if (waits.length > 0) await Promise.all(waits);
    return { baseOffset: result.baseOffset, lastOffset: result.lastOffset, logStartOffset: log.logStartOffset };
  }

  private wake(hosted: Hosted): void {
    if (hosted.waiters.size === 0) return;
    const waiters = [...hosted.waiters];
    hosted.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Whole batches from `offset`, at most `maxBytes` (at least one batch). What a consumer sees
   * ends at the high watermark, which on a single node is the log end.
   */
  fetch(topic: string, partition: number, offset: number, maxBytes: number): FetchSlice {
    const hosted = this.hosted(topic, partition);
    const highWatermark = hosted.replica?.highWatermark;
    const result = hosted.log.read(offset, maxBytes, { maxOffset: highWatermark });
    return {
      records: result.records,
      file: result.file,
      fileId: result.fileId,
      position: result.position,
      nextOffset: result.nextOffset,
      highWatermark: highWatermark ?? result.logEndOffset,
      logStartOffset: result.logStartOffset,
    };
  }

  /**
   * Resolves when the partition holds data at or beyond `offset`, or after `maxWaitMs`, or when
   * the partition closes — whichever comes first (long poll of one partition).
   */
  waitForData(topic: string, partition: number, offset: number, maxWaitMs: number): Promise<void> {
    return this.waitForAny([{ topic, partition, offset }], maxWaitMs).done;
  }

  /**
   * A long poll over several partitions: `done` resolves once any of them holds data at or beyond
   * its offset, after `maxWaitMs`, when one closes, or when end() is called — and then no waiter of
   * it is left registered anywhere. One timer and one callback per partition: a fetch waits many
   * times a second, so this avoids an AbortController (and the DOMException each abort() builds)
   * per wait. Throws UNKNOWN_TOPIC_OR_PARTITION for a partition not hosted here.
   */
  waitForAny(partitions: readonly { topic: string; partition: number; offset: number }[], maxWaitMs: number, { toLogEnd = false } = {}): DataWait {
    const watched = partitions.map((p) => this.hosted(p.topic, p.partition));
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    let ended = false;
    let timer: NodeJS.Timeout | null = null;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (timer !== null) clearTimeout(timer);
      for (const hosted of watched) hosted.waiters.delete(end);
      resolve();
    };
    // Consumers wait for the high watermark to pass them; followers (toLogEnd) for the log end.
    const visibleEnd = (hosted: Hosted) => (toLogEnd ? hosted.log.logEndOffset : (hosted.replica?.highWatermark ?? hosted.log.logEndOffset));
    if (maxWaitMs <= 0 || watched.some((hosted, i) => partitions[i].offset < visibleEnd(hosted))) {
      end();
      return { done, end };
    }
    for (const hosted of watched) hosted.waiters.add(end);
    timer = setTimeout(end, maxWaitMs);
    return { done, end };
  }

  /** -2 = earliest, -1 = latest, else the first offset with a timestamp at or after it. */
  listOffset(topic: string, partition: number, timestamp: number): { offset: number; timestamp: number } {
    const log = this.hosted(topic, partition).log;
    if (timestamp === EARLIEST) return { offset: log.logStartOffset, timestamp: -1 };
    if (timestamp === LATEST) return { offset: this.hosted(topic, partition).replica?.highWatermark ?? log.logEndOffset, timestamp: -1 };
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new RillError(Errors.INVALID_REQUEST, `timestamp must be -2 (earliest), -1 (latest) or a time in ms, got ${timestamp}`);
    }
    return log.offsetForTimestamp(timestamp) ?? { offset: log.logEndOffset, timestamp: -1 };
  }

  /** Applies retention to every partition; returns what each deleted. */
  retention(now: number = Date.now()): (RetentionResult & { topic: string; partition: number })[] {
    const results = [];
    for (const [k, hosted] of this.partitions) {
      const [topic, partition] = fromKey(k);
      try {
        const result = hosted.log.deleteRetainedSegments(now);
        if (result.deletedSegments > 0) results.push({ topic, partition, ...result });
      } catch (error) {
        this.logger.error({ topic, partition, err: error }, 'retention failed');
      }
    }
    return results;
  }

  /**
   * Starts a compaction pass (PartitionLog.clean) on each compacted partition, in the background
   * on this thread: it yields between chunks, so requests keep being served. Returns how many
   * partitions were checked. A pass that fails is logged and retried at the next check.
   */
  startCleaning(now: number = Date.now()): number {
    let checked = 0;
    for (const [k, hosted] of this.partitions) {
      if (!compacts(hosted.log.config)) continue;
      const [topic, partition] = fromKey(k);
      checked++;
      Promise.resolve(now).then((at) => hosted.log.clean(at)).then(
        (outcome) => {
          if (!isCleanSkip(outcome)) this.logger.info({ topic, partition, ...outcome }, 'log cleaner pass done');
        },
        (error) => this.logger.error({ topic, partition, err: error }, 'log cleaner pass failed'),
      );
    }
    return checked;
  }

  stats(): PartitionStatus[] {
    return [...this.partitions].map(([k, hosted]) => status(...fromKey(k), hosted.log));
  }
}

export const EARLIEST = -2;
export const LATEST = -1;

function fromKey(k: string): [string, number] {
  const at = k.lastIndexOf('\u0000');
  return [k.slice(0, at), Number(k.slice(at + 1))];
}

function status(topic: string, partition: number, log: PartitionLog): PartitionStatus {
  return {
    topic,
    partition,
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
    flushedOffset: log.flushedOffset,
    size: log.size,
    segments: log.segmentCount,
    ...log.flushStats,
  };
}
