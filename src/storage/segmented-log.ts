// The segments of one partition log and what works on them alone: opening and recovering them
// (log-loader.ts), the flusher, rolling, and reading by offset or timestamp. PartitionLog
// (partition-log.ts) builds on it with appends, leader epochs, producer state, retention,
// compaction and truncation; its header holds the durability contract. Owner thread only.

import { Errors, RillError } from '../errors.js';
import { nativeIo, type FileIo } from '../native/index.js';
import { silentLogger, type Logger } from '../logger.js';
import { type CheckpointFile } from './checkpoint.js';
import { deleteSegmentFiles, loadLog, type RecoveryReport } from './log-loader.js';
import { syncDirectory } from './durable-files.js';
import { LogFlusher, type FlushStats } from './log-flusher.js';
import { storageError } from './storage-error.js';
import { type LogConfig } from './log-config.js';
import { Segment, type SegmentSettings } from './segment.js';

/**
 * What a read at the log end returns, shared: a tailing consumer's fetch reads every partition it
 * asks for, mostly at the end, and a fresh empty array each time was an ArrayBuffer for V8 to
 * allocate and sweep. It has no bytes for anyone to change.
 */
const NO_RECORDS = new Uint8Array(0);

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
  /** The inode of that file (0 with no file): the log cleaner may swap another in under its name. */
  fileId: number;
  position: number;
}

export interface ReadOptions {
  /** Return no batch starting at or above this offset (the high watermark, later). */
  maxOffset?: number;
}

/** Relative offsets in the indexes are u32: roll before a segment spans 2^31 offsets (as Kafka). */
const MAX_OFFSETS_PER_SEGMENT = 0x7fffffff;

export abstract class SegmentedLog {
  readonly dir: string;
  readonly config: LogConfig;
  /** What the last open found and did. */
  readonly recovery: RecoveryReport;

  protected readonly settings: SegmentSettings;
  protected readonly logger: Logger;
  protected readonly clock: () => number;
  protected readonly checkpoint: CheckpointFile;
  protected readonly flusher: LogFlusher;
  protected segments: Segment[];
  protected next: number;
  protected closed = false;

  protected constructor(dir: string, config: LogConfig, options: PartitionLogOptions, checkpoint: CheckpointFile) {
    this.dir = dir;
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? Date.now;
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
  }

  protected get active(): Segment {
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

  /** fdatasync rounds done and their summed duration. */
  get flushStats(): FlushStats {
    return this.flusher.stats;
  }

  /** Offsets below this are known to be fdatasynced. */
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

  protected assertOpen(): void {
    if (this.closed) throw new RillError(Errors.LOG_CLOSED, `partition log ${this.dir} is closed`);
  }

  /** Reads go on after a failed fdatasync (they see what was written); writes stop. */
  protected assertWritable(): void {
    this.assertOpen();
    if (this.flusher.failure !== null) throw this.flusher.failure;
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

  protected maybeRoll(length: number, recordCount: number, now: number): void {
    const active = this.active;
    if (active.isEmpty) return;
    const full = active.size + length > this.config.segmentBytes;
    const old = active.createdAt !== null && now - active.createdAt >= this.config.segmentMs;
    const offsetsFull = this.next + recordCount - 1 - active.baseOffset > MAX_OFFSETS_PER_SEGMENT;
    if (full || old || offsetsFull) this.roll();
  }

  /** Called by roll() once the old segment is sealed, before the flusher learns of it. */
  protected abstract afterRoll(): void;

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
    this.afterRoll();
    this.logger.info({ dir: this.dir, segment: fresh.paths.log, sealed: old.paths.log, size: old.size }, 'rolled segment');
    this.flusher.sealed(old);
  }

  // --- reading ----------------------------------------------------------------------------------

  protected segmentFor(offset: number): number {
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
        fileId: segment.fileId,
        position: slice.position,
      };
    }
    return { records: NO_RECORDS, firstOffset: offset, nextOffset: offset, logStartOffset: start, logEndOffset: end, file: null, fileId: 0, position: 0 };
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
}
