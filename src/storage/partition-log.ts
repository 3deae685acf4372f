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
import { join } from 'node:path';
import { Errors, RillError } from '../errors.js';
import { CHECKPOINT_FILE, CheckpointFile } from './checkpoint.js';
import { deleteSegmentFiles } from './log-loader.js';
import { syncDirectory } from './durable-files.js';
import { storageError } from './storage-error.js';
import { compacts, deletesByRetention, resolveLogConfig, type LogConfig } from './log-config.js';
import { cleanLog, type CleanableLog, type CleanResult, type CleanSkip } from './log-cleaner.js';
import { Segment } from './segment.js';
import { batchProducer, ProducerStateTable } from './producer-state.js';
import { loadProducerState, snapshotProducers } from './producer-state-loader.js';
import { loadLeaderEpochs } from './leader-epoch-loader.js';
import type { LogScan } from './log-scan.js';
import { batchBaseOffset, batchLastOffset, batchSize } from './batch-layout.js';
import type { EpochEndOffset, LeaderEpochCache } from './leader-epoch-cache.js';
import type { EpochEntry } from './leader-epoch-checkpoint.js';
import { checkReplicatedRecordSet } from './replicated-batches.js';
import { checkProducedRecordSet, recordProducedBatches } from './produced-record-set.js';
import { SegmentedLog, type PartitionLogOptions } from './segmented-log.js';

export type { PartitionLogOptions, ReadOptions, ReadResult } from './segmented-log.js';

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

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
}

export class PartitionLog extends SegmentedLog {
  leaderEpoch: number;

  /** Idempotent producers' sequences and recent batches (producer-state.ts). */
  private readonly producers = new ProducerStateTable();
  /** A compaction pass in progress (log-cleaner.ts): at most one at a time. */
  private cleaning: Promise<CleanResult | CleanSkip> | null = null;
  /** Which epoch starts where (leader-epoch-cache.ts); loaded in the constructor. */
  private epochs!: LeaderEpochCache;

  private constructor(dir: string, config: LogConfig, options: PartitionLogOptions, checkpoint: CheckpointFile) {
    super(dir, config, options, checkpoint);
    this.leaderEpoch = options.leaderEpoch ?? 0;
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
    const { batches, recordCount, maxTimestamp, producerBatches, duplicate } = checkProducedRecordSet(records, maxMessageBytes, this.producers);
    if (duplicate !== null) return { ...duplicate, recordCount, maxTimestamp, duplicate: true };

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
    if (producerBatches !== null) recordProducedBatches(this.producers, records, producerBatches, baseOffset, now);
    return { baseOffset, lastOffset: this.next - 1, recordCount, maxTimestamp };
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

  protected override afterRoll(): void {
    this.snapshotProducers();
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
