// Opening a partition directory: finding its segments, and recovering after a crash.
// Owner thread only.
//
// Recovery stance:
// - Clean shutdown (checkpoint flag set, active segment trimmed to the checkpointed position):
//   nothing is scanned. Opening costs a directory listing, a stat per segment and a few mmaps.
// - Otherwise the scan starts at the checkpoint: the position in the segment up to which log
//   bytes and the counted index entries were fdatasynced. Batches after it are validated
//   (length, magic, CRC-32C, offsets increasing; compacted segments have gaps) and indexed; the first invalid one ends the log:
//   the file is cut there and any later segment deleted. Recovery time therefore grows with
//   the unflushed tail (at most flush.interval.ms of writes), not with the size of the log.
// - Sealed segments before the checkpoint are trusted; a corrupt batch inside one is reported
//   when a read reaches it. A missing or malformed index is rebuilt from its segment.
// - Unknown files are ignored with a warning; index files without a segment are deleted.

import { readdirSync, statSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Logger } from '../logger.js';
import { isSnapshotFileName } from './producer-snapshot.js';
import { isCleanerFileName, recoverCleanerFiles } from './cleaner-files.js';
import { syncDirectory } from './durable-files.js';
import { type CheckpointFile, type CheckpointState, CHECKPOINT_FILE } from './checkpoint.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from './leader-epoch-checkpoint.js';
import { HIGH_WATERMARK_CHECKPOINT_FILE } from './high-watermark-checkpoint.js';
import { parseSegmentFileName } from './segment-files.js';
import { Segment, type ActiveState, type SegmentSettings } from './segment.js';
import { OFFSET_ENTRY_SIZE, TIME_ENTRY_SIZE } from './sparse-index.js';

export interface RecoveryReport {
  /** The checkpoint said clean shutdown and nothing was scanned. */
  clean: boolean;
  /** Bytes of log validated by the scan. */
  scannedBytes: number;
  /** Where the log was cut, if it was. */
  truncated: { file: string; position: number; reason: string } | null;
  deletedSegments: string[];
  rebuiltIndexes: string[];
  ignoredFiles: string[];
  durationMs: number;
}

export interface LoadedLog {
  segments: Segment[];
  report: RecoveryReport;
  /** Offsets below this are known durable: the checkpoint's, or the whole log after a clean close. */
  durableEnd: number;
  /** Sealed segments whose data recovery accepted from the page cache: not known to be synced. */
  unsynced: Segment[];
}

function emptyState(baseOffset: number): ActiveState {
  return { size: 0, nextOffset: baseOffset, offsetIndexEntries: 0, timeIndexEntries: 0, maxTimestamp: -Infinity };
}

export function deleteSegmentFiles(segment: Segment): void {
  segment.closeFiles();
  for (const path of [segment.paths.log, segment.paths.index, segment.paths.timeIndex]) {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Opens the segments of `dir`, recovering them if needed; on failure releases what it opened. */
export function loadLog(dir: string, settings: SegmentSettings, checkpoint: CheckpointFile, logger: Logger): LoadedLog {
  const opened: Segment[] = [];
  try {
    return load(dir, settings, checkpoint, logger, opened);
  } catch (error) {
    for (const segment of opened) segment.closeFiles();
    throw error;
  }
}

function load(dir: string, settings: SegmentSettings, checkpoint: CheckpointFile, logger: Logger, opened: Segment[]): LoadedLog {
  const started = performance.now();
  const report: RecoveryReport = {
    clean: false,
    scannedBytes: 0,
    truncated: null,
    deletedSegments: [],
    rebuiltIndexes: [],
    ignoredFiles: [],
    durationMs: 0,
  };

  // An interrupted compaction first: it leaves the old segments of a range or their cleaned one.
  recoverCleanerFiles(dir, logger);
  const logs = new Set<number>();
  const indexFiles = new Map<number, string[]>();
  for (const name of readdirSync(dir)) {
    if (name === CHECKPOINT_FILE || name === LEADER_EPOCH_CHECKPOINT_FILE || name === `${LEADER_EPOCH_CHECKPOINT_FILE}.tmp` || name === HIGH_WATERMARK_CHECKPOINT_FILE || name === `${HIGH_WATERMARK_CHECKPOINT_FILE}.tmp` || isSnapshotFileName(name) || isCleanerFileName(name)) continue;
    const parsed = parseSegmentFileName(name);
    if (parsed === null) {
      logger.warn({ dir, file: name }, 'ignoring unknown file in partition directory');
      report.ignoredFiles.push(name);
      continue;
    }
    if (parsed.kind === 'log') logs.add(parsed.baseOffset);
    else indexFiles.set(parsed.baseOffset, [...(indexFiles.get(parsed.baseOffset) ?? []), name]);
  }
  for (const [base, names] of indexFiles) {
    if (logs.has(base)) continue;
    for (const name of names) {
      logger.warn({ dir, file: name }, 'deleting index file that has no segment');
      unlinkSync(join(dir, name));
    }
  }

  const cp = checkpoint.read();
  const bases = [...logs].sort((a, b) => a - b);
  if (bases.length === 0) {
    const base = cp?.nextOffset ?? 0;
    if (cp !== null) logger.error({ dir, nextOffset: base }, 'partition has a checkpoint but no segments; starting empty at the checkpointed offset');
    const segment = Segment.active(settings, dir, base, emptyState(base));
    opened.push(segment);
    syncDirectory(dir);
    report.clean = cp?.clean ?? false;
    report.durationMs = performance.now() - started;
    return { segments: [segment], report, durableEnd: base, unsynced: [] };
  }

  const segments = bases.map((base, i) => {
    const size = statSync(join(dir, `${String(base).padStart(20, '0')}.log`)).size;
    return Segment.sealed(settings, dir, base, size, bases[i + 1] ?? base);
  });
  opened.push(...segments);
  const last = segments[segments.length - 1];

  // Sealed segments: rebuild indexes that are missing or obviously malformed.
  for (const segment of segments.slice(0, -1)) {
    if (!indexFilesLookIntact(segment, true)) rebuild(segment, logger, report);
  }

  // The last segment was active: its index files are trimmed only if it was closed cleanly.
  const lastIndexesIntact = indexFilesLookIntact(last, cp?.clean === true);
  let durableEnd: number;
  let unsynced: Segment[] = [];
  if (cp !== null && cp.clean && cp.segmentBase === last.baseOffset && cp.position === last.size) {
    report.clean = true;
    last.activate(stateFrom(cp));
    if (!lastIndexesIntact || !last.indexesLookSound()) rebuild(last, logger, report);
    durableEnd = cp.nextOffset;
  } else {
    const recovered = recover(dir, segments, cp, lastIndexesIntact, logger, report);
    durableEnd = recovered.durableEnd;
    unsynced = recovered.scanned.filter((s) => segments.includes(s) && s !== segments[segments.length - 1]);
  }
  report.durationMs = performance.now() - started;
  return { segments, report, durableEnd, unsynced };
}

function stateFrom(cp: CheckpointState): ActiveState {
  return {
    size: cp.position,
    nextOffset: cp.nextOffset,
    offsetIndexEntries: cp.offsetIndexEntries,
    timeIndexEntries: cp.timeIndexEntries,
    maxTimestamp: cp.maxTimestamp,
  };
}

/** Both index files exist and, where they should be trimmed, hold whole entries. */
function indexFilesLookIntact(segment: Segment, trimmed: boolean): boolean {
  for (const [path, entrySize] of [
    [segment.paths.index, OFFSET_ENTRY_SIZE],
    [segment.paths.timeIndex, TIME_ENTRY_SIZE],
  ] as const) {
    if (!existsSync(path)) return false;
    if (trimmed && statSync(path).size % entrySize !== 0) return false;
  }
  return true;
}

function rebuild(segment: Segment, logger: Logger, report: RecoveryReport): void {
  logger.warn({ file: segment.paths.index }, 'index missing or malformed; rebuilding it from the segment');
  const problem = segment.rebuildIndexes();
  if (problem !== null) logger.error({ file: segment.paths.log, problem }, 'segment has a corrupt batch; indexed up to it');
  report.rebuiltIndexes.push(segment.paths.index);
}

function recover(
  dir: string,
  segments: Segment[],
  cp: CheckpointState | null,
  lastIndexesIntact: boolean,
  logger: Logger,
  report: RecoveryReport,
): { durableEnd: number; scanned: Segment[] } {
  let start = cp === null ? -1 : segments.findIndex((s) => s.baseOffset === cp.segmentBase);
  let state: ActiveState;
  if (cp !== null && start >= 0 && cp.position <= segments[start].size && cp.nextOffset >= cp.segmentBase) {
    const intact = start === segments.length - 1 ? lastIndexesIntact : true;
    state = intact ? stateFrom(cp) : emptyState(segments[start].baseOffset);
  } else {
    if (cp !== null) logger.warn({ dir, checkpoint: cp }, 'checkpoint does not match the segments; scanning the whole log');
    start = 0;
    state = emptyState(segments[0].baseOffset);
  }
  logger.info({ dir, segment: segments[start].paths.log, position: state.size }, 'recovering partition log after unclean shutdown');

  const durableEnd = state.nextOffset;
  const scanned: Segment[] = [];
  let expected = state.nextOffset;
  for (let i = start; i < segments.length; i++) {
    const segment = segments[i];
    // A later segment may start above where the previous one's batches end (compaction removed
    // its last records), never below it.
    if (i > start && segment.baseOffset < expected) {
      cut(dir, segments, i, logger, report);
      const previous = segments[i - 1];
      if (!previous.isActive) previous.reopenAsActive();
      report.truncated = { file: segment.paths.log, position: 0, reason: `segment starts at offset ${segment.baseOffset}, log ends at ${expected}` };
      return { durableEnd, scanned };
    }
    const from = i === start ? state.size : 0;
    segment.activate(i === start ? state : emptyState(segment.baseOffset));
    const result = segment.recover(from, expected);
    scanned.push(segment);
    report.scannedBytes += result.end - from;
    expected = result.nextOffset;
    if (result.problem !== null) {
      logger.warn({ file: segment.paths.log, position: result.end, reason: result.problem }, 'cut torn or invalid tail of the log');
      report.truncated = { file: segment.paths.log, position: result.end, reason: result.problem };
      cut(dir, segments, i + 1, logger, report);
      return { durableEnd, scanned };
    }
    if (i < segments.length - 1) {
      segment.seal();
      segment.nextOffset = expected;
    }
  }
  return { durableEnd, scanned };
}

/** Deletes segments[from...] (they follow the end of the log). */
function cut(dir: string, segments: Segment[], from: number, logger: Logger, report: RecoveryReport): void {
  const removed = segments.splice(from);
  for (const segment of removed) {
    logger.warn({ file: segment.paths.log }, 'deleting segment that follows the end of the recovered log');
    deleteSegmentFiles(segment);
    report.deletedSegments.push(segment.paths.log);
  }
  if (removed.length > 0) syncDirectory(dir);
}
