// Log compaction (cleanup.policy=compact): rewrites sealed segments keeping only the latest record
// per key. Owner thread only — it runs on the worker that owns the partition, the only thread that
// ever writes it, between that thread's other work (it yields every CHUNK_BYTES).
//
// One pass, as in Kafka's LogCleaner:
// 1. Cleanable segments: sealed, fdatasynced, and before the segment the on-disk flush checkpoint
//    names (a crash-recovery scan starts there, so it never scans a segment the cleaner rewrote).
//    The active segment is never touched.
// 2. Dirty segments are those at or after the cleaner checkpoint (the end of the last pass). The
//    pass runs when dirty bytes / cleanable bytes >= min.cleanable.dirty.ratio (or when forced).
// 3. Map: the dirty records' keys to their latest offsets (offset-map.ts), bounded by
//    cleaner.dedupe.buffer.bytes; if it fills, the pass covers offsets up to where it stopped.
// 4. Rewrite every cleanable segment below the map's end, in groups of consecutive segments that
//    fit one segment.bytes, into one cleaned segment per group named by the group's first base
//    offset. A record survives unless its key has a later record below the map's end, or it is a
//    tombstone (null value) older than delete.retention.ms (by its batch's max timestamp). Records
//    without a key are kept. Nothing is renumbered (batch-compactor.ts), so offsets keep their
//    meaning and fetches see gaps, as on Kafka's compacted topics.
// 5. Producer state: a batch of an idempotent producer that loses all its records is kept, empty,
//    when it is that producer's last batch in the cleaned range, so a rebuild of the producer state
//    from the log still sees the producer's epoch and last sequence (Kafka keeps such batches for
//    the same reason). The in-memory producer table is not touched at all.
// 6. Each group is swapped in crash-safely (cleaner-files.ts); the cleaner checkpoint moves last.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { type Logger } from '../logger.js';
import { RECORDS, batchBaseOffset, batchMaxTimestamp, batchSize } from './batch-layout.js';
import { batchRecords, rewriteBatch, type RecordView } from './batch-compactor.js';
import { cleanedPath, swapPath, unlinkSegmentFiles, writeCleanerCheckpoint, readCleanerCheckpoint } from './cleaner-files.js';
import { syncDirectory } from './durable-files.js';
import { type LogConfig } from './log-config.js';
import { mapKey, OffsetMap } from './offset-map.js';
import { batchProducer } from './producer-state.js';
import { Segment, type SegmentSettings } from './segment.js';
import { deleteSegmentFiles } from './log-loader.js';

/** What the cleaner needs of its partition log (partition-log.ts). */
export interface CleanableLog {
  readonly dir: string;
  readonly config: LogConfig;
  readonly settings: SegmentSettings;
  readonly logger: Logger;
  /** Sealed, durable segments before the checkpointed one, oldest first. */
  cleanableSegments(): Segment[];
  /** Still open, and still holding every segment of `group` in that order? */
  holds(group: readonly Segment[]): boolean;
  /** Replaces `group` (held, consecutive) by `cleaned`. */
  replace(group: readonly Segment[], cleaned: Segment): void;
}

export interface CleanResult {
  /** Segments rewritten, and the cleaned segments that replaced them. */
  segmentsRead: number;
  segmentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** The new cleaner checkpoint: offsets below it have been cleaned. */
  cleanedTo: number;
  /** Keys in the offset map, and whether it filled (the pass stopped early). */
  mappedKeys: number;
  mapFull: boolean;
  durationMs: number;
}

/** Why a pass did not run, when it did not. */
export type CleanSkip = { skipped: 'nothing-cleanable' | 'below-dirty-ratio' | 'log-changed'; dirtyRatio: number };

/** Work between two yields to the event loop: appends and fetches wait at most this long. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Cleaned bytes are written out in pieces of about this size. */
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Relative offsets in the indexes are u32 (as in partition-log.ts). */
const MAX_OFFSETS_PER_SEGMENT = 0x7fffffff;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Drops an abandoned `.cleaned` file; it may be gone already (the topic was deleted meanwhile). */
function discard(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Calls `each` for every batch of `segment` whose last offset is >= `from`, yielding as it goes.
 * False when `each` stopped it or the segment left the log.
 */
async function forEachBatch(log: CleanableLog, segment: Segment, from: number, each: (buf: Uint8Array, pos: number) => boolean | void): Promise<boolean> {
  let offset = Math.max(from, segment.baseOffset);
  while (offset < segment.nextOffset) {
    if (!log.holds([segment])) return false; // closed, truncated or retention took it meanwhile
    const slice = segment.read(offset, CHUNK_BYTES, segment.nextOffset);
    if (slice === null || slice.bytes.length === 0) return true;
    const bytes = slice.bytes;
    for (let pos = 0; pos < bytes.length; pos += batchSize(bytes, pos)) {
      if (each(bytes, pos) === false) return false;
    }
    offset = slice.nextOffset;
    await yieldToLoop();
  }
  return true;
}

/** Runs one cleaning pass if the log is dirty enough (or `force`); see the header. */
export async function cleanLog(log: CleanableLog, now: number, force: boolean): Promise<CleanResult | CleanSkip> {
  const started = performance.now();
  const { config, dir, logger } = log;
  const segments = log.cleanableSegments();
  if (segments.length === 0) return { skipped: 'nothing-cleanable', dirtyRatio: 0 };
  const firstDirty = Math.max(readCleanerCheckpoint(dir, logger), segments[0].baseOffset);
  let totalBytes = 0;
  let dirtyBytes = 0;
  for (const s of segments) {
    totalBytes += s.size;
    if (s.nextOffset > firstDirty) dirtyBytes += s.size;
  }
  const dirtyRatio = totalBytes === 0 ? 0 : dirtyBytes / totalBytes;
  // Forced with nothing dirty: the pass only recleans (dropping tombstones that have aged out).
  if (dirtyBytes === 0 && !force) return { skipped: 'nothing-cleanable', dirtyRatio };
  if (!force && dirtyRatio < config.minCleanableDirtyRatio) return { skipped: 'below-dirty-ratio', dirtyRatio };

  // --- 3. the offset map over the dirty records ---
  const map = new OffsetMap(config.cleanerDedupeBufferBytes);
  let mapEnd = firstDirty;
  let mapFull = false;
  for (const segment of segments) {
    if (segment.nextOffset <= firstDirty) continue;
    const complete = await forEachBatch(log, segment, firstDirty, (buf, pos) => {
      for (const record of batchRecords(buf, pos)) {
        if (record.offset < firstDirty) continue;
        if (record.key !== null) {
          const key = mapKey(record.key);
          if (map.full && !map.has(key)) {
            mapEnd = record.offset;
            return false;
          }
          map.put(key, record.offset);
        }
        mapEnd = record.offset + 1;
      }
    });
    if (!log.holds(segments)) return { skipped: 'log-changed', dirtyRatio };
    if (!complete) {
      mapFull = true;
      break;
    }
    mapEnd = segment.nextOffset;
  }
  const toClean = segments.filter((s) => s.baseOffset < mapEnd);
  if (toClean.length === 0) return { skipped: 'nothing-cleanable', dirtyRatio };

  // --- 5. each producer's last batch in the range (kept even when emptied) ---
  const lastBatchOf = new Map<number, number>();
  for (const segment of toClean) {
    await forEachBatch(log, segment, segment.baseOffset, (buf, pos) => {
      const producer = batchProducer(buf, pos);
      if (producer !== null) lastBatchOf.set(producer.producerId, batchBaseOffset(buf, pos));
    });
  }

  const result: CleanResult = {
    segmentsRead: 0, segmentsWritten: 0, bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsRemoved: 0, tombstonesRemoved: 0,
    cleanedTo: mapEnd, mappedKeys: map.size, mapFull, durationMs: 0,
  };
  const tombstoneHorizon = now - config.deleteRetentionMs;
  const keep = (record: RecordView, batchMaxTs: number): boolean => {
    if (record.offset >= mapEnd || record.key === null) return true;
    if (map.get(mapKey(record.key)) > record.offset) return false;
    return !(record.tombstone && batchMaxTs < tombstoneHorizon);
  };

  // --- 4 and 6. rewrite and swap, group by group ---
  for (const group of groupSegments(toClean, config.segmentBytes)) {
    if (!log.holds(group)) return { skipped: 'log-changed', dirtyRatio };
    const cleaned = await writeCleaned(log, group, keep, lastBatchOf, result);
    if (cleaned === null) return { skipped: 'log-changed', dirtyRatio };
    // Checked again with no await before the swap: the swap itself is synchronous.
    if (!log.holds(group)) {
      discard(cleaned.path);
      return { skipped: 'log-changed', dirtyRatio };
    }
    swapIn(log, group, cleaned.path, cleaned.size);
    result.segmentsRead += group.length;
    result.segmentsWritten++;
  }
  writeCleanerCheckpoint(dir, mapEnd);
  result.durationMs = performance.now() - started;
  logger.info({ dir, ...result }, 'cleaned log');
  return result;
}

/** Consecutive segments whose bytes together fit one segment (and whose offsets fit its index). */
function groupSegments(segments: readonly Segment[], segmentBytes: number): Segment[][] {
  const groups: Segment[][] = [];
  let current: Segment[] = [];
  let bytes = 0;
  for (const segment of segments) {
    const span = segment.nextOffset - (current[0]?.baseOffset ?? segment.baseOffset);
    if (current.length > 0 && (bytes + segment.size > segmentBytes || span > MAX_OFFSETS_PER_SEGMENT)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(segment);
    bytes += segment.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Writes the cleaned form of `group` to its `.cleaned` file and fsyncs it; null if the log changed meanwhile. */
async function writeCleaned(
  log: CleanableLog,
  group: readonly Segment[],
  keep: (record: RecordView, batchMaxTs: number) => boolean,
  lastBatchOf: ReadonlyMap<number, number>,
  result: CleanResult,
): Promise<{ path: string; size: number } | null> {
  const path = cleanedPath(log.dir, group[0].baseOffset);
  const fd = openSync(path, 'w');
  let size = 0;
  let ok = false;
  let lastHeader: Uint8Array | null = null;
  try {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const drain = () => {
      const chunk = Buffer.concat(pending, pendingBytes);
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
      pending = [];
      pendingBytes = 0;
    };
    const emit = (bytes: Uint8Array) => {
      pending.push(bytes);
      pendingBytes += bytes.length;
      size += bytes.length;
      if (pendingBytes >= WRITE_BUFFER_BYTES) drain();
    };
    for (const segment of group) {
      result.bytesRead += segment.size;
      await forEachBatch(log, segment, segment.baseOffset, (buf, pos) => {
        const records = batchRecords(buf, pos);
        const maxTs = batchMaxTimestamp(buf, pos);
        const kept = records.filter((r) => keep(r, maxTs));
        result.recordsRead += records.length;
        result.recordsRemoved += records.length - kept.length;
        if (kept.length < records.length) {
          let tombstones = 0;
          for (const r of records) if (r.tombstone) tombstones++;
          for (const r of kept) if (r.tombstone) tombstones--;
          result.tombstonesRemoved += tombstones;
        }
        const end = pos + batchSize(buf, pos);
        lastHeader = buf.slice(pos, pos + RECORDS);
        if (kept.length === records.length) {
          emit(buf.slice(pos, end));
        } else if (kept.length > 0) {
          emit(rewriteBatch(buf, pos, kept));
        } else {
          const producer = batchProducer(buf, pos);
          if (producer !== null && lastBatchOf.get(producer.producerId) === batchBaseOffset(buf, pos)) emit(rewriteBatch(buf, pos, kept));
        }
      });
      if (!log.holds(group)) return null;
    }
    // A group whose every record went: its last batch stays, emptied, so the cleaned segment is
    // never an empty file and still says where its offsets end.
    if (size === 0 && lastHeader !== null) emit(rewriteBatch(lastHeader, 0, []));
    drain();
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) discard(path);
  }
  if (!log.holds(group)) {
    discard(path);
    return null;
  }
  result.bytesWritten += size;
  return { path, size };
}

/** The synchronous swap: commit by rename, drop the old segments, put the cleaned one in place. */
function swapIn(log: CleanableLog, group: readonly Segment[], cleaned: string, size: number): void {
  const { dir, settings } = log;
  const base = group[0].baseOffset;
  const end = group[group.length - 1].nextOffset;
  const swap = swapPath(dir, base, end);
  renameSync(cleaned, swap);
  syncDirectory(dir); // commit point: from here a restart completes the swap
  for (const segment of group) {
    deleteSegmentFiles(segment);
    unlinkSegmentFiles(dir, segment.baseOffset);
  }
  const fresh = Segment.sealed(settings, dir, base, size, end);
  renameSync(swap, fresh.paths.log);
  syncDirectory(dir);
  const problem = fresh.rebuildIndexes();
  if (problem !== null) log.logger.error({ file: fresh.paths.log, problem }, 'cleaned segment failed its own index rebuild');
  log.replace(group, fresh);
}

export function isSkip(outcome: CleanResult | CleanSkip): outcome is CleanSkip {
  return 'skipped' in outcome;
}
