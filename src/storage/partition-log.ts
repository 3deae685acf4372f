// PartitionLog: the append-only, segmented log of one partition. Owner thread only: exactly one
// thread (the partition's owner worker) opens a partition directory; nothing here is thread-safe.
//
// Durability contract (what a resolved promise means):
// - write() returns once the batches are copied into the mapped segment, i.e. in the page cache:
//   they survive the process being killed, not the machine losing power.
// - append() resolves, with flush.mode=async, right after write(): an fdatasync follows within
//   flush.interval.ms, and on roll and close. With flush.mode=sync it resolves only after an
//   fdatasync that covers its records has completed; appends that arrive while one fdatasync runs
//   share the next one (group commit).
// - flush() resolves once everything written before the call is fdatasynced and checkpointed.
// - close() flushes, trims the active segment and marks the shutdown clean, so the next open
//   scans nothing.
//
// Records are handed in and out as RecordBatch v2 bytes (see batch-layout.ts). Reads return
// views into the segment mappings: valid until the segment is rolled, truncated, deleted or the
// log closed. Copy what you keep.

import { mkdirSync } from 'node:fs';
import { Errors, RillError } from '../errors.js';
import { nativeIo, type FileIo } from '../native/index.js';
import { silentLogger, type Logger } from '../logger.js';
import { LAST_OFFSET_DELTA, MAX_TIMESTAMP } from './batch-layout.js';
import { checkProducedBatch } from './batch-validator.js';
import { readInt32, readInt64 } from './bytes.js';
import { CHECKPOINT_FILE, CheckpointFile } from './checkpoint.js';
import { deleteSegmentFiles, loadLog, type RecoveryReport } from './log-loader.js';
import { syncDirectory } from './durable-files.js';
import { LogFlusher, type FlushStats } from './log-flusher.js';
import { storageError } from './storage-error.js';
import { compacts, deletesByRetention, resolveLogConfig, type LogConfig } from './log-config.js';
import { cleanLog, type CleanableLog, type CleanResult, type CleanSkip } from './log-cleaner.js';
import { Segment, type SegmentSettings } from './segment.js';
import { batchProducer, ProducerStateTable, type BatchProducer } from './producer-state.js';
import { loadProducerState, snapshotProducers } from './producer-state-loader.js';
import { loadLeaderEpochs } from './leader-epoch-loader.js';
import type { LogScan } from './log-scan.js';
import { batchBaseOffset, batchLastOffset, batchSize } from './batch-layout.js';
import type { EpochEndOffset, LeaderEpochCache } from './leader-epoch-cache.js';
import type { EpochEntry } from './leader-epoch-checkpoint.js';
import { checkReplicatedRecordSet } from './replicated-batches.js';
import { join } from 'node:path';

export interface PartitionLogOptions {
  config?: Partial<LogConfig>;
  /** File I/O (tests inject faults); defaults to the native addon. */
  io?: FileIo;
  logger?: Logger;
  /** Milliseconds since the epoch; for segment.ms and retention.ms. */
  clock?: () => number;
  /** Leader epoch stamped into appended batches (see becomeLeader()). */
  leaderEpoch?: number;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  /** Largest record timestamp among the appended batches. */
  maxTimestamp: number;
  /**
   * True when the record set was an idempotent producer's retry of batches already in the log:
   * nothing was appended, and the offsets are those the batches got the first time.
   */
  duplicate?: boolean;
}

export interface ReadResult {
  /** Whole record batches, back to back; empty at the log end. A view into the mapped segment. */
  records: Uint8Array;
  /** Base offset of the first batch (may be below the offset asked for: batches are whole). */
  firstOffset: number;
  /** Where the next read should start. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  /** Where the bytes are: the segment file and byte position (for zero-copy senders). */
  file: string | null;
  position: number;
}

export interface ReadOptions {
  /** Return no batch starting at or above this offset (the high watermark, later). */
  maxOffset?: number;
}

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
}

/** Relative offsets in the indexes are u32: roll before a segment spans 2^31 offsets (as Kafka). */
const MAX_OFFSETS_PER_SEGMENT = 0x7fffffff;

export class PartitionLog {
  readonly dir: string;
  readonly config: LogConfig;
  /** What the last open found and did. */
  readonly recovery: RecoveryReport;
  leaderEpoch: number;

  private readonly settings: SegmentSettings;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly checkpoint: CheckpointFile;
  private readonly flusher: LogFlusher;
  private segments: Segment[];
  private next: number;
  private closed = false;
  /** Idempotent producers' sequences and recent batches (producer-state.ts). */
  private readonly producers = new ProducerStateTable();
  /** A compaction pass in progress (log-cleaner.ts): at most one at a time. */
  private cleaning: Promise<CleanResult | CleanSkip> | null = null;
  /** Which epoch starts where (leader-epoch-cache.ts); loaded in the constructor. */
  private epochs!: LeaderEpochCache;

  private constructor(dir: string, config: LogConfig, options: PartitionLogOptions, checkpoint: CheckpointFile) {
    this.dir = dir;
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
    this.leaderEpoch = options.leaderEpoch ?? 0;
    this.settings = { io: options.io ?? nativeIo, segmentBytes: config.segmentBytes, indexIntervalBytes: config.indexIntervalBytes };
    this.checkpoint = checkpoint;
    const { segments, report, durableEnd, unsynced } = loadLog(dir, this.settings, checkpoint, this.logger);
    this.segments = segments;
    this.recovery = report;
    this.next = this.active.nextOffset;
    if (report.clean) {
      // Clear the clean flag before any append, so a crash from here on is recovered by a scan.
      this.checkpoint.write(this.active.checkpointState(false));
    }
    // After a crash, what recovery accepted beyond the checkpoint may sit only in the page cache:
    // it is not claimed durable (nor checkpointed) until the first flush round has synced it.
    this.flusher = new LogFlusher(
      {
        dir,
        logEnd: () => this.next,
        activeSegment: () => this.active,
        holds: (segment) => this.segments.includes(segment),
      },
      { config, checkpoint, io: this.settings.io, clock: this.clock, logger: this.logger, durableEnd, unsynced },
    );
    this.loadProducerState();
    this.epochs = loadLeaderEpochs(this.scan());
  }

  /** Opens the log in `dir` (created if missing), recovering it if it was not closed cleanly. */
  static async open(dir: string, options: PartitionLogOptions = {}): Promise<PartitionLog> {
    const config = resolveLogConfig(options.config);
    let checkpoint: CheckpointFile;
    try {
      mkdirSync(dir, { recursive: true });
      checkpoint = CheckpointFile.open(join(dir, CHECKPOINT_FILE));
    } catch (error) {
      throw storageError(error, `opening ${dir}`);
    }
    try {
      return new PartitionLog(dir, config, options, checkpoint);
    } catch (error) {
      checkpoint.close();
      throw storageError(error, `opening ${dir}`);
    }
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1];
  }

  /** Offset of the first record held. */
  get logStartOffset(): number {
    return this.segments[0].baseOffset;
  }

  /** Offset the next appended record gets (one past the last). */
  get logEndOffset(): number {
    return this.next;
  }

  /** Offsets below this are known to be fdatasynced. */
  /** fdatasync rounds done and their summed duration. */
  get flushStats(): FlushStats {
    return this.flusher.stats;
  }

  get flushedOffset(): number {
    return this.flusher.durableEnd;
  }

  /** Bytes of record batches held, over all segments. */
  get size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  private assertOpen(): void {
    if (this.closed) throw new RillError(Errors.LOG_CLOSED, `partition log ${this.dir} is closed`);
  }

  /** Reads go on after a failed fdatasync (they see what was written); writes stop. */
  private assertWritable(): void {
    this.assertOpen();
    if (this.flusher.failure !== null) throw this.flusher.failure;
  }

  // --- appending --------------------------------------------------------------------------------

  /**
   * Validates and writes one or more whole batches (a record set), assigning offsets. Nothing is
   * written if any batch is invalid or the disk refuses the space. Not yet durable: see append().
   */
  write(records: Uint8Array): AppendResult {
    this.assertWritable();
    const { maxMessageBytes, segmentBytes } = this.config;
    if (records.length === 0) throw new RillError(Errors.INVALID_RECORD, 'empty record set');
    if (records.length > segmentBytes) {
      throw new RillError(Errors.MESSAGE_TOO_LARGE, `record set of ${records.length} bytes exceeds segment.bytes (${segmentBytes})`);
    }
    let pos = 0;
    let batches = 0;
    let recordCount = 0;
    let maxTimestamp = -Infinity;
    // Producer fields per batch, only for record sets from idempotent producers (kept off the
    // plain path); duplicate* describe batches that are retries of batches already appended.
    let producerBatches: (BatchProducer | null)[] | null = null;
    let duplicateCount = 0;
    let duplicateBase = -1;
    let duplicateLast = -1;
    while (pos < records.length) {
      const size = checkProducedBatch(records, pos, records.length - pos);
      if (typeof size !== 'number') throw new RillError(size.spec, `batch ${batches} at byte ${pos}: ${size.reason}`);
      if (size > maxMessageBytes) {
        throw new RillError(Errors.MESSAGE_TOO_LARGE, `batch ${batches} is ${size} bytes; max.message.bytes is ${maxMessageBytes}`);
      }
      const producer = batchProducer(records, pos);
      if (producer !== null) {
        producerBatches ??= new Array<BatchProducer | null>(batches).fill(null);
        const pending = producerBatches.filter((b): b is BatchProducer => b !== null);
        const verdict = this.producers.check(producer, pending);
        if (verdict.kind === 'duplicate') {
          if (duplicateCount++ === 0) duplicateBase = verdict.batch.baseOffset;
          duplicateLast = verdict.batch.lastOffset;
        }
        producerBatches.push(verdict.kind === 'append' ? producer : null);
      } else if (producerBatches !== null) {
        producerBatches.push(null);
      }
      recordCount += readInt32(records, pos + LAST_OFFSET_DELTA) + 1;
      maxTimestamp = Math.max(maxTimestamp, readInt64(records, pos + MAX_TIMESTAMP));
      pos += size;
      batches++;
    }
    if (duplicateCount > 0) {
      // A retry is answered only as a whole: a record set mixing retried and new batches is not
      // something a producer sends, and appending half of it would break the sequence rules.
      if (duplicateCount !== batches) {
        throw new RillError(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, `record set mixes ${duplicateCount} retried batches with ${batches - duplicateCount} new ones`);
      }
      return { baseOffset: duplicateBase, lastOffset: duplicateLast, recordCount, maxTimestamp, duplicate: true };
    }

    const now = this.clock();
    this.maybeRoll(records.length, recordCount, now);
    const active = this.active;
    try {
      active.reserve(records.length, batches);
    } catch (error) {
      throw storageError(error, `appending to ${active.paths.log}`);
    }
    const baseOffset = this.next;
    // The epoch is recorded before its first batch is written, so the checkpoint is never behind.
    if (this.leaderEpoch > this.epochs.latestEpoch) this.assignEpoch(this.leaderEpoch, baseOffset);
    this.next = active.append(records, baseOffset, this.leaderEpoch, now);
    this.flusher.afterWrite(now);
    if (producerBatches !== null) this.recordProducers(records, producerBatches, baseOffset, now);
    return { baseOffset, lastOffset: this.next - 1, recordCount, maxTimestamp };
  }

  private recordProducers(records: Uint8Array, producers: readonly (BatchProducer | null)[], baseOffset: number, now: number): void {
    let pos = 0;
    let offset = baseOffset;
    for (const producer of producers) {
      const count = readInt32(records, pos + LAST_OFFSET_DELTA) + 1;
      if (producer !== null) this.producers.record(producer, offset, offset + count - 1, now);
      offset += count;
      pos += batchSize(records, pos);
    }
  }

  /**
   * A follower's append: whole batches fetched from the leader, written as they are (offsets and
   * leader epochs preserved, see replicated-batches.ts). Producer state follows the batches, so a
   * follower that becomes leader answers an idempotent producer's retry as the old leader would.
   * Durability as write(): call waitForDurable() or append semantics around it as needed.
   */
  writeReplicated(records: Uint8Array): AppendResult {
    this.assertWritable();
    if (records.length > this.config.segmentBytes) {
      throw new RillError(Errors.MESSAGE_TOO_LARGE, `replicated record set of ${records.length} bytes exceeds segment.bytes (${this.config.segmentBytes})`);
    }
    const checked = checkReplicatedRecordSet(records, this.next, this.epochs.latestEpoch, this.config.maxMessageBytes);
    const baseOffset = this.next;
    const now = this.clock();
    for (const run of checked.runs) {
      const bytes = records.subarray(run.start, run.end);
      this.maybeRoll(bytes.length, run.nextOffset - run.baseOffset, now);
      const active = this.active;
      try {
        active.reserve(bytes.length, run.batches);
      } catch (error) {
        throw storageError(error, `appending to ${active.paths.log}`);
      }
      if (run.epoch > this.epochs.latestEpoch) this.assignEpoch(run.epoch, run.baseOffset);
      this.next = active.append(bytes, run.baseOffset, run.epoch, now);
      this.flusher.afterWrite(now);
      for (let pos = 0; pos < bytes.length; pos += batchSize(bytes, pos)) {
        const producer = batchProducer(bytes, pos);
        if (producer !== null) this.producers.record(producer, batchBaseOffset(bytes, pos), batchLastOffset(bytes, pos), now);
      }
    }
    return { baseOffset, lastOffset: this.next - 1, recordCount: checked.recordCount, maxTimestamp: checked.maxTimestamp };
  }

  // --- leader epochs ------------------------------------------------------------------------------

  /**
   * This replica leads from now on in `epoch` (above any it has seen): the epoch starts at the log
   * end, recorded durably before anything is appended in it, and producer state is rebuilt from
   * the log so that idempotent retries across a failover neither duplicate nor reorder.
   */
  becomeLeader(epoch: number): void {
    this.assertWritable();
    if (!Number.isSafeInteger(epoch) || epoch < this.epochs.latestEpoch) {
      throw new RillError(Errors.FENCED_LEADER_EPOCH, `leader epoch ${epoch} is below ${this.epochs.latestEpoch} already in ${this.dir}`);
    }
    this.leaderEpoch = epoch;
    if (epoch > this.epochs.latestEpoch) this.assignEpoch(epoch, this.next);
    this.loadProducerState();
  }

  /** The latest leader epoch the log holds records of (or began), -1 if none. */
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }

  /** Start offset of the latest epoch (-1 if none). */
  get latestEpochStartOffset(): number {
    return this.epochs.latestStartOffset;
  }

  /** Where `epoch` ends in this log (OffsetsForLeaderEpoch semantics, see leader-epoch-cache.ts). */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.next);
  }

  epochEntries(): EpochEntry[] {
    return this.epochs.list();
  }

  private assignEpoch(epoch: number, startOffset: number): void {
    try {
      this.epochs.assign(epoch, startOffset);
    } catch (error) {
      throw storageError(error, `writing the leader-epoch checkpoint of ${this.dir}`);
    }
  }

  // --- producer state ---------------------------------------------------------------------------

  /** The state of an idempotent producer on this partition (for tests and stats). */
  producerState(producerId: number): { epoch: number; lastSequence: number | null; lastOffset: number | null } | undefined {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return undefined;
    const last = entry.batches[entry.batches.length - 1];
    return { epoch: entry.epoch, lastSequence: last?.lastSequence ?? null, lastOffset: last?.lastOffset ?? null };
  }

  get producerCount(): number {
    return this.producers.size;
  }

  /** Producer state from snapshots and the log (producer-state-loader.ts). */
  private loadProducerState(): void {
    loadProducerState(this.scan(), this.producers, this.clock(), this.config.producerIdExpirationMs);
  }

  private snapshotProducers(): void {
    snapshotProducers({ dir: this.dir, logger: this.logger }, this.next, this.producers);
  }

  /** This log as the state loaders read it. */
  private scan(): LogScan {
    return { dir: this.dir, logStartOffset: this.logStartOffset, logEndOffset: this.next, logger: this.logger, read: (offset, maxBytes) => this.read(offset, maxBytes) };
  }

  /** write(), then wait as flush.mode says (see the durability contract at the top). */
  async append(records: Uint8Array): Promise<AppendResult> {
    const result = this.write(records);
    if (this.config.flushMode === 'sync') await this.waitForDurable(result.lastOffset + 1);
    return result;
  }

  /** Resolves once every offset below `end` is fdatasynced (starting a flush if none is due). */
  waitForDurable(end: number): Promise<void> {
    return this.flusher.waitForDurable(end);
  }

  /** Makes everything written so far durable and checkpointed. */
  async flush(): Promise<void> {
    this.assertWritable();
    await this.flusher.flush();
  }

  private maybeRoll(length: number, recordCount: number, now: number): void {
    const active = this.active;
    if (active.isEmpty) return;
    const full = active.size + length > this.config.segmentBytes;
    const old = active.createdAt !== null && now - active.createdAt >= this.config.segmentMs;
    const offsetsFull = this.next + recordCount - 1 - active.baseOffset > MAX_OFFSETS_PER_SEGMENT;
    if (full || old || offsetsFull) this.roll();
  }

  /** Seals the active segment and starts a new one at the log end. */
  roll(): void {
    this.assertWritable();
    const old = this.active;
    if (old.isEmpty) return;
    // The new segment first: if the directory refuses it, the old one simply stays active.
    let fresh: Segment;
    try {
      fresh = Segment.active(this.settings, this.dir, this.next, {
        size: 0,
        nextOffset: this.next,
        offsetIndexEntries: 0,
        timeIndexEntries: 0,
        maxTimestamp: -Infinity,
      });
      syncDirectory(this.dir);
    } catch (error) {
      throw storageError(error, `creating a segment in ${this.dir}`);
    }
    try {
      old.seal();
    } catch (error) {
      deleteSegmentFiles(fresh);
      throw storageError(error, `sealing ${old.paths.log}`);
    }
    old.nextOffset = this.next;
    this.segments.push(fresh);
    this.snapshotProducers();
    this.logger.info({ dir: this.dir, segment: fresh.paths.log, sealed: old.paths.log, size: old.size }, 'rolled segment');
    this.flusher.sealed(old);
  }

  // --- reading ----------------------------------------------------------------------------------

  private segmentFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid].baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes` (at least one batch, so large
   * batches never stall a consumer). At the log end, an empty result. Outside
   * [logStartOffset, logEndOffset]: OFFSET_OUT_OF_RANGE with the valid range in its details.
   */
  read(offset: number, maxBytes: number, options: ReadOptions = {}): ReadResult {
    this.assertOpen();
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RillError(Errors.INVALID_FETCH_SIZE, `maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const start = this.logStartOffset;
    const end = this.next;
    if (!Number.isSafeInteger(offset) || offset < start || offset > end) {
      throw new RillError(Errors.OFFSET_OUT_OF_RANGE, `offset ${offset} is outside [${start}, ${end}]`, {
        offset,
        logStartOffset: start,
        logEndOffset: end,
      });
    }
    const maxOffset = Math.min(options.maxOffset ?? end, end);
    for (let i = this.segmentFor(offset); i < this.segments.length && offset < maxOffset; i++) {
      const segment = this.segments[i];
      const slice = segment.read(Math.max(offset, segment.baseOffset), maxBytes, maxOffset);
      if (slice === null) continue;
      return {
        records: slice.bytes,
        firstOffset: slice.firstOffset,
        nextOffset: slice.bytes.length === 0 ? offset : slice.nextOffset,
        logStartOffset: start,
        logEndOffset: end,
        file: segment.paths.log,
        position: slice.position,
      };
    }
    return { records: new Uint8Array(0), firstOffset: offset, nextOffset: offset, logStartOffset: start, logEndOffset: end, file: null, position: 0 };
  }

  /** The first record with a timestamp >= `timestamp` (offset and its timestamp), or null. */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.assertOpen();
    for (const segment of this.segments) {
      const found = segment.findByTimestamp(timestamp, this.logStartOffset);
      if (found !== null) return found;
    }
    return null;
  }

  // --- retention and truncation -----------------------------------------------------------------

  /**
   * Deletes the oldest sealed segments that retention.ms or retention.bytes no longer keeps.
   * The active segment is never deleted (it rolls by segment.ms / segment.bytes first).
   */
  deleteRetainedSegments(now: number = this.clock()): RetentionResult {
    this.assertWritable();
    const { retentionMs, retentionBytes } = this.config;
    if (!deletesByRetention(this.config)) {
      this.producers.expire(now, this.config.producerIdExpirationMs, this.logStartOffset);
      return { deletedSegments: 0, deletedBytes: 0 };
    }
    let total = this.size;
    let deletedSegments = 0;
    let deletedBytes = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0];
      const expired = retentionMs >= 0 && oldest.largestTimestamp() < now - retentionMs;
      const oversized = retentionBytes >= 0 && total - oldest.size >= retentionBytes;
      if (!expired && !oversized) break;
      this.segments.shift();
      deleteSegmentFiles(oldest);
      total -= oldest.size;
      deletedBytes += oldest.size;
      deletedSegments++;
      this.logger.info({ dir: this.dir, segment: oldest.paths.log, reason: expired ? 'retention.ms' : 'retention.bytes' }, 'deleted segment');
    }
    if (deletedSegments > 0) {
      this.flusher.forget();
      syncDirectory(this.dir);
      this.epochs.truncateFromStart(this.logStartOffset);
    }
    this.producers.expire(now, this.config.producerIdExpirationMs, this.logStartOffset);
    return { deletedSegments, deletedBytes };
  }

  // --- compaction ---------------------------------------------------------------------------------

  /**
   * One log-cleaner pass when cleanup.policy compacts and the log is dirty enough (or `force`):
   * sealed segments are rewritten with the latest record per key (see log-cleaner.ts). The active
   * segment is never touched; appends and reads go on while it runs. A second call while a pass
   * runs joins it.
   */
  clean(now: number = this.clock(), options: { force?: boolean } = {}): Promise<CleanResult | CleanSkip> {
    this.assertWritable();
    if (!compacts(this.config)) return Promise.resolve({ skipped: 'nothing-cleanable', dirtyRatio: 0 });
    this.cleaning ??= cleanLog(this.cleanable(), now, options.force === true).finally(() => {
      this.cleaning = null;
    });
    return this.cleaning;
  }

  private cleanable(): CleanableLog {
    return {
      dir: this.dir,
      config: this.config,
      settings: this.settings,
      logger: this.logger,
      cleanableSegments: () => {
        const checkpointed = this.checkpoint.read();
        if (checkpointed === null) return [];
        const durable = this.flusher.durableEnd;
        return this.segments.filter((s) => !s.isActive && s.baseOffset < checkpointed.segmentBase && s.nextOffset <= durable);
      },
      holds: (group) => {
        if (this.closed || group.length === 0) return false;
        const at = this.segments.indexOf(group[0]);
        return at >= 0 && group.every((s, i) => this.segments[at + i] === s);
      },
      replace: (group, cleaned) => {
        this.segments.splice(this.segments.indexOf(group[0]), group.length, cleaned);
        this.flusher.forget();
      },
    };
  }

  /**
   * Removes every record at or above `offset` (from the start of the batch holding it) and
   * returns the new log end offset. Below the log start, the log is emptied and restarts at
   * `offset`. Appends still waiting for durability beyond the new end fail with LOG_TRUNCATED.
   */
  truncateTo(offset: number): number {
    return this.cut(offset, false);
  }

  /** Empties the log and restarts it at `offset` (a follower whose leader's log start passed it). */
  truncateFullyAndStartAt(offset: number): number {
    return this.cut(offset, true);
  }

  private cut(offset: number, fully: boolean): number {
    this.assertWritable();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RillError(Errors.INVALID_REQUEST, `cannot truncate to ${offset}`);
    if (offset >= this.next && !fully) return this.next;
    if (fully || offset <= this.logStartOffset) {
      for (const segment of this.segments.splice(0)) deleteSegmentFiles(segment);
      this.segments.push(Segment.active(this.settings, this.dir, offset, { size: 0, nextOffset: offset, offsetIndexEntries: 0, timeIndexEntries: 0, maxTimestamp: -Infinity }));
      this.next = offset;
    } else {
      const keep = this.segmentFor(offset);
      for (const segment of this.segments.splice(keep + 1)) deleteSegmentFiles(segment);
      const segment = this.segments[keep];
      segment.reopenAsActive();
      this.next = segment.truncateTo(offset);
    }
    syncDirectory(this.dir);
    this.active.syncNow();
    this.checkpoint.write(this.active.checkpointState(false));
    this.flusher.truncated(this.next);
    // After the log: a crash in between leaves entries past the end, which opening drops.
    if (this.segments.length === 1 && this.active.isEmpty) this.epochs.clear();
    else this.epochs.truncateFromEnd(this.next);
    this.loadProducerState();
    this.logger.info({ dir: this.dir, logEndOffset: this.next }, 'truncated log');
    return this.next;
  }

  // --- closing ----------------------------------------------------------------------------------

  /** Flushes, trims the active segment, writes a clean-shutdown checkpoint and releases files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const unsynced = await this.flusher.stop();
    try {
      if (this.flusher.failure === null) {
        for (const segment of unsynced) segment.syncNow();
        const active = this.active;
        active.trimForClose();
        active.syncNow();
        this.snapshotProducers();
        this.checkpoint.write(active.checkpointState(true));
        this.flusher.settleAll(this.next);
      }
    } catch (error) {
      throw storageError(error, `closing ${this.dir}`);
    } finally {
      this.flusher.settleAll(null);
      for (const segment of this.segments) segment.closeFiles();
      this.checkpoint.close();
    }
  }
}
