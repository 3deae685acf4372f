// One segment of a partition log: a .log file of record batches back to back, with its sparse
// .index and .timeindex (see segment-indexes.ts). Owner thread only. Not thread-safe.
//
// A segment is either active (the one being appended to: its files are mapped read-write and
// grow in chunks, see mapped-file.ts) or sealed (trimmed to its real length; files opened
// read-only on first use). Only the owning PartitionLog changes a segment.
//
// Positions are u32 and relative offsets are u32, so a segment holds < 2 GiB and < 2^31 offsets;
// the log rolls before either would overflow.

import { statSync } from 'node:fs';
import { Errors, RillError } from '../errors.js';
import { type FileIo } from '../native/index.js';
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC,
  CURRENT_MAGIC,
  BASE_OFFSET,
  PARTITION_LEADER_EPOCH,
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchSize,
} from './batch-layout.js';
import { checkBatchFrame } from './batch-validator.js';
import { type CheckpointState } from './checkpoint.js';
import { decodeRecordBatch } from './batch-decoder.js';
import { readInt8, writeInt32, writeInt64 } from './bytes.js';
import { MappedFile } from './mapped-file.js';
import { segmentPaths, type SegmentPaths } from './segment-files.js';
import { NO_INDEX_ENTRIES, SegmentIndexes, type IndexState } from './segment-indexes.js';

/** What is known of an active segment when it is opened (from a checkpoint or a scan). */
export interface ActiveState extends IndexState {
  size: number;
  nextOffset: number;
}

export interface SegmentSettings {
  io: FileIo;
  segmentBytes: number;
  indexIntervalBytes: number;
}

/** A slice of the log returned by a read: whole batches, a view into the segment's mapping. */
export interface SegmentSlice {
  bytes: Uint8Array;
  position: number;
  firstOffset: number;
  nextOffset: number;
}

/** How a recovery scan ended. */
export interface ScanResult {
  /** End of the last valid batch. */
  end: number;
  nextOffset: number;
  /** Why the scan stopped before the end of the file, if not at zeros or the end. */
  problem: string | null;
}

/**
 * The writer's pages behind the last TAIL_KEPT_MAPPED_BYTES are unmapped from this thread each
 * time it has advanced DROP_BEHIND_STEP_BYTES (see append()).
 */
const TAIL_KEPT_MAPPED_BYTES = 256 * 1024;
const DROP_BEHIND_STEP_BYTES = 256 * 1024;

export class Segment {
  readonly baseOffset: number;
  readonly paths: SegmentPaths;
  private readonly settings: SegmentSettings;
  private log: MappedFile | null = null;
  /** The writer's pages below here were unmapped by append(). */
  private droppedBehind = 0;
  private idx: SegmentIndexes | null = null;
  private activeState = false;
  /** Bytes of valid batches. */
  size: number;
  /** One past the last offset in the segment (for a sealed segment, set by the log). */
  nextOffset: number;
  /** When the first batch was appended (ms), for segment.ms; null while empty. */
  createdAt: number | null = null;

  private constructor(settings: SegmentSettings, dir: string, baseOffset: number, size: number, nextOffset: number) {
    this.settings = settings;
    this.baseOffset = baseOffset;
    this.paths = segmentPaths(dir, baseOffset);
    this.size = size;
    this.nextOffset = nextOffset;
  }

  /** A sealed segment whose files are opened on first use. */
  static sealed(settings: SegmentSettings, dir: string, baseOffset: number, size: number, nextOffset: number): Segment {
    return new Segment(settings, dir, baseOffset, size, nextOffset);
  }

  /** Opens (creating if needed) an active segment in the given state. */
  static active(settings: SegmentSettings, dir: string, baseOffset: number, state: ActiveState): Segment {
    const segment = new Segment(settings, dir, baseOffset, state.size, state.nextOffset);
    segment.activate(state);
    return segment;
  }

  get isActive(): boolean {
    return this.activeState;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  private maxEntries(): number {
    return Math.floor(Math.max(this.settings.segmentBytes, this.size) / this.settings.indexIntervalBytes) + 2;
  }

  /** Opens the segment's files read-write as the log's active segment, in the given state. */
  activate(state: ActiveState): void {
    this.closeFiles();
    const { io, segmentBytes, indexIntervalBytes } = this.settings;
    this.size = state.size;
    this.nextOffset = state.nextOffset;
    this.log = MappedFile.openWritable(io, this.paths.log, { capacity: Math.max(segmentBytes, this.size), create: true, prefault: true });
    try {
      this.idx = SegmentIndexes.openWritable(io, this.paths, this.baseOffset, indexIntervalBytes, this.maxEntries(), state);
    } catch (error) {
      this.closeFiles();
      throw error;
    }
    this.activeState = true;
    this.noteCreationTime();
  }

  /** For segment.ms after a reopen: when the file was created (birth time where the fs has it). */
  private noteCreationTime(): void {
    if (this.size > 0 && this.createdAt === null) {
      const stat = statSync(this.paths.log);
      this.createdAt = stat.birthtimeMs > 0 ? stat.birthtimeMs : stat.mtimeMs;
    }
  }

  /** State to reopen this active segment with, as the checkpoint records it. */
  snapshot(): ActiveState {
    return { size: this.size, nextOffset: this.nextOffset, ...this.indexes().state };
  }

  /** The checkpoint describing this (active) segment as it is now. */
  checkpointState(clean: boolean): CheckpointState {
    const { size, ...rest } = this.snapshot();
    return { clean, segmentBase: this.baseOffset, position: size, ...rest };
  }

  /** Largest record timestamp in the segment, -Infinity when it has none. */
  largestTimestamp(): number {
    return this.indexes().maxTimestamp;
  }

  /** Inode of the log file this segment reads: with `paths.log`, which file its positions are in. */
  get fileId(): number {
    return this.logFile().ino;
  }

  private logFile(): MappedFile {
    if (this.log === null) this.log = MappedFile.openReadOnly(this.settings.io, this.paths.log);
    return this.log;
  }

  /** The indexes: read-write while active, opened read-only on first use once sealed. */
  private indexes(): SegmentIndexes {
    if (this.idx === null) this.idx = SegmentIndexes.openReadOnly(this.settings.io, this.paths, this.baseOffset, this.settings.indexIntervalBytes);
    return this.idx;
  }

  // --- appending (active only) --------------------------------------------------------------

  /**
   * Reserves disk space for `length` more bytes and the index entries they may need. Throws the
   * system error (ENOSPC, EFBIG, ...) with nothing written.
   */
  reserve(length: number, batches: number): void {
    this.assertActive();
    this.log!.reserve(this.size + length);
    this.idx!.reserve(batches);
  }

  /**
   * Copies validated batches (from `reserve`d space on) and stamps each with its base offset and
   * the leader epoch. Returns the next offset. The bytes are in the page cache, not yet durable.
   */
  append(records: Uint8Array, firstOffset: number, leaderEpoch: number, now: number): number {
    this.assertActive();
    const bytes = this.log!.bytes;
    const start = this.size;
    bytes.set(records, start);
    let pos = start;
    let offset = firstOffset;
    const end = start + records.length;
    while (pos < end) {
      writeInt64(bytes, pos + BASE_OFFSET, offset);
      writeInt32(bytes, pos + PARTITION_LEADER_EPOCH, leaderEpoch);
      const last = batchLastOffset(bytes, pos);
      this.idx!.track(pos, offset, last, batchMaxTimestamp(bytes, pos));
      offset = last + 1;
      pos += batchSize(bytes, pos);
    }
    this.size = end;
    this.nextOffset = offset;
    if (this.createdAt === null) this.createdAt = now;
    // Unmap what the writer left behind. On a shared file mapping MADV_DONTNEED only drops this
    // thread's page-table entries: dirty pages stay dirty in the page cache and are written back
    // and fdatasynced as before, so this needs no sync first. RSS then holds the tail being
    // written (and the pre-faulted window ahead), not everything written since the last flush.
    if (end - this.droppedBehind >= TAIL_KEPT_MAPPED_BYTES + DROP_BEHIND_STEP_BYTES) {
      this.droppedBehind = end - TAIL_KEPT_MAPPED_BYTES;
      this.log!.dropPages(this.droppedBehind);
    }
    return offset;
  }

  private assertActive(): void {
    if (!this.activeState) throw new Error(`segment ${this.paths.log} is sealed`);
  }

  // --- reading ----------------------------------------------------------------------------

  private corrupt(position: number, reason: string): RillError {
    return new RillError(Errors.CORRUPT_MESSAGE, `corrupt batch in ${this.paths.log} at byte ${position}: ${reason}`, {
      file: this.paths.log,
      position,
    });
  }

  /**
   * Position of the batch holding `offset` (the first whose last offset is >= it), or `size` when
   * the segment ends before. Walks batch headers from the index entry; checks lengths, not CRCs.
   */
  private positionOf(offset: number): number {
    const bytes = this.logFile().bytes;
    let pos = this.indexes().positionFor(offset);
    while (pos < this.size) {
      const problem = this.frameProblem(bytes, pos);
      if (problem !== null) throw this.corrupt(pos, problem);
      if (batchLastOffset(bytes, pos) >= offset) return pos;
      pos += batchSize(bytes, pos);
    }
    return this.size;
  }

  /** Header-level sanity of the batch at `pos` (no CRC): enough to walk from batch to batch. */
  private frameProblem(bytes: Uint8Array, pos: number): string | null {
    if (this.size - pos < BATCH_HEADER_SIZE) return `only ${this.size - pos} bytes left for a batch header`;
    const size = batchSize(bytes, pos);
    if (size < BATCH_HEADER_SIZE || pos + size > this.size) return `batch length ${size - LOG_OVERHEAD} does not fit the segment`;
    if (readInt8(bytes, pos + MAGIC) !== CURRENT_MAGIC) return `magic ${readInt8(bytes, pos + MAGIC)}`;
    return null;
  }

  /**
   * Whole batches from the one holding `offset`, as many as fit `maxBytes` (at least one, so a
   * consumer always progresses), none at or beyond `maxOffset`. Every returned batch has passed
   * its CRC check. A corrupt first batch throws CORRUPT_MESSAGE naming file and byte position; a
   * corrupt later one ends the slice before it. Returns null when the segment ends before `offset`.
   */
  read(offset: number, maxBytes: number, maxOffset: number): SegmentSlice | null {
    const start = this.positionOf(offset);
    if (start >= this.size) return null;
    const bytes = this.logFile().bytes;
    let pos = start;
    let nextOffset = offset;
    while (pos < this.size) {
      const size = checkBatchFrame(bytes, pos, this.size - pos);
      if (typeof size !== 'number') {
        if (pos === start) throw this.corrupt(pos, size.reason);
        break;
      }
      if (batchBaseOffset(bytes, pos) >= maxOffset) break;
      if (pos > start && pos - start + size > maxBytes) break;
      nextOffset = batchLastOffset(bytes, pos) + 1;
      pos += size;
    }
    return { bytes: bytes.subarray(start, pos), position: start, firstOffset: batchBaseOffset(bytes, start), nextOffset };
  }

  /** First record at or after `fromOffset` with timestamp >= `timestamp`, or null. */
  findByTimestamp(timestamp: number, fromOffset: number): { offset: number; timestamp: number } | null {
    if (this.largestTimestamp() < timestamp) return null;
    const searchFrom = Math.max(fromOffset, this.indexes().searchStartFor(timestamp));
    const bytes = this.logFile().bytes;
    let pos = this.positionOf(searchFrom);
    while (pos < this.size) {
      const problem = this.frameProblem(bytes, pos);
      if (problem !== null) throw this.corrupt(pos, problem);
      const size = batchSize(bytes, pos);
      if (batchMaxTimestamp(bytes, pos) >= timestamp) {
        let batch;
        try {
          batch = decodeRecordBatch(bytes.subarray(pos, pos + size));
        } catch (error) {
          throw this.corrupt(pos, (error as Error).message);
        }
        for (const record of batch.records) {
          if (record.offset >= searchFrom && record.timestamp >= timestamp) return { offset: record.offset, timestamp: record.timestamp };
        }
      }
      pos += size;
    }
    return null;
  }

  // --- recovery and truncation ----------------------------------------------------------------

  /**
   * Validates batches from `position` on (length, magic, CRC, offsets increasing from
   * `expectedOffset`, with the gaps compaction leaves), indexing them, and cuts the file after the last valid one so that no stale
   * bytes can ever be mistaken for data. Active only.
   */
  recover(position: number, expectedOffset: number): ScanResult {
    this.assertActive();
    const log = this.log!;
    const fileSize = log.allocated;
    const bytes = log.bytes;
    let pos = position;
    let next = expectedOffset;
    let problem: string | null = null;
    while (pos < fileSize) {
      if (isZero(bytes, pos, Math.min(fileSize, pos + LOG_OVERHEAD))) break; // preallocated, never written
      const size = checkBatchFrame(bytes, pos, fileSize - pos);
      if (typeof size !== 'number') {
        problem = size.reason;
        break;
      }
      const base = batchBaseOffset(bytes, pos);
      // Offsets only increase; they may skip (a compacted segment has gaps, as in Kafka).
      if (base < next) {
        problem = `batch base offset ${base} where ${next} or more was expected`;
        break;
      }
      const last = batchLastOffset(bytes, pos);
      this.idx!.track(pos, base, last, batchMaxTimestamp(bytes, pos));
      next = last + 1;
      pos += size;
    }
    this.size = pos;
    this.nextOffset = next;
    if (fileSize > pos) log.truncate(pos);
    this.noteCreationTime();
    return { end: pos, nextOffset: next, problem };
  }

  /**
   * Removes the batch holding `offset` and everything after it; returns the new next offset
   * (the base offset of that batch). Active only.
   */
  truncateTo(offset: number): number {
    this.assertActive();
    const pos = this.positionOf(offset);
    if (pos >= this.size) return this.nextOffset;
    const newNext = batchBaseOffset(this.log!.bytes, pos);
    this.truncateAt(pos, newNext);
    return newNext;
  }

  /** Cuts the segment to `position` bytes holding offsets below `nextOffset`. Active only. */
  truncateAt(position: number, nextOffset: number): void {
    this.assertActive();
    this.log!.truncate(position);
    this.size = position;
    this.nextOffset = nextOffset;
    const bytes = this.log!.bytes;
    for (let pos = this.idx!.truncate(position, nextOffset); pos < this.size; pos += batchSize(bytes, pos)) {
      this.idx!.noteTimestamp(batchMaxTimestamp(bytes, pos));
    }
    if (position === 0) this.createdAt = null;
  }

  /**
   * Rebuilds both indexes by scanning the whole segment (missing or malformed index files).
   * Stops, without cutting anything, at the first invalid batch; returns why, or null.
   */
  rebuildIndexes(): string | null {
    const { io, indexIntervalBytes } = this.settings;
    const wasActive = this.activeState;
    this.idx?.close();
    const log = this.logFile();
    const limit = wasActive ? this.size : log.allocated;
    const idx = SegmentIndexes.openWritable(io, this.paths, this.baseOffset, indexIntervalBytes, this.maxEntries(), NO_INDEX_ENTRIES);
    this.idx = idx;
    idx.trim(); // drop whatever the old files held
    let pos = 0;
    let lastOffset = this.baseOffset - 1;
    let problem: string | null = null;
    while (pos < limit) {
      const size = checkBatchFrame(log.bytes, pos, limit - pos);
      if (typeof size !== 'number') {
        problem = `${size.reason} at byte ${pos}`;
        break;
      }
      idx.reserve(1);
      lastOffset = batchLastOffset(log.bytes, pos);
      idx.track(pos, batchBaseOffset(log.bytes, pos), lastOffset, batchMaxTimestamp(log.bytes, pos));
      pos += size;
    }
    if (!wasActive) {
      idx.finish(lastOffset);
      idx.trim();
      idx.sync();
      idx.close();
      this.idx = null;
    }
    return problem;
  }

  /** Checks the index files against the log; false means rebuild them. */
  indexesLookSound(): boolean {
    try {
      return this.indexes().isConsistent(this.size);
    } catch {
      return false;
    }
  }

  // --- sealing and lifecycle ------------------------------------------------------------------

  /**
   * Turns the active segment into a sealed one: a final time index entry, every file trimmed to its
   * real length, the writable mappings released. Data is not synced here (the log's flush does).
   */
  seal(): void {
    if (!this.activeState) return;
    this.idx!.finish(this.nextOffset - 1); // the one step that needs space; it fails before anything changes
    this.log!.truncate(this.size);
    this.idx!.trim();
    this.closeFiles();
    this.activeState = false;
  }

  /** Trims the files of the active segment for a clean shutdown, keeping it active on disk. */
  trimForClose(): void {
    if (!this.activeState) return;
    this.idx!.finish(this.nextOffset - 1);
    this.log!.truncate(this.size);
    this.idx!.trim();
  }

  /** Makes a sealed segment active again (the log truncated back into it). */
  reopenAsActive(): void {
    if (!this.activeState) this.activate(this.snapshot());
  }

  /** fdatasync of the log file (and, with `indexes`, of both index files) on the thread pool. */
  async syncAsync(indexes: boolean): Promise<void> {
    await Promise.all([this.logFile().syncAsync(), indexes ? this.indexes().syncAsync() : undefined]);
  }

  /** fdatasync of all three files on this thread. */
  syncNow(): void {
    this.logFile().sync();
    this.indexes().sync();
  }

  /** Releases mappings and descriptors; views handed out read as empty afterwards. */
  closeFiles(): void {
    this.log?.close();
    this.idx?.close();
    this.log = null;
    this.idx = null;
  }
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}
