// Files of the log cleaner in a partition directory, and putting a directory right after a crash
// during cleaning. Owner thread only.
//
//   <base>.log.cleaned              a cleaned segment being written: not yet part of the log
//   <base>-<end>.log.swap           a cleaned segment that replaces every segment with a base offset
//                                   in [base, end): written, fsynced and committed, not yet in place
//   cleaner-checkpoint              JSON { version, firstDirtyOffset }: below it the log is clean
//
// Crash stance (the swap protocol of Kafka's cleaner, with the replaced range in the name):
// 1. the cleaned segment is written to `.cleaned` and fsynced; a crash leaves the old segments
//    untouched and a `.cleaned` leftover, which the next open deletes;
// 2. renaming it to `.swap` (then a directory fsync) is the commit point;
// 3. the old segments of the range are deleted and `.swap` is renamed to `<base>.log`. A crash
//    anywhere in 3 leaves a `.swap`: the next open deletes whatever of the range is left and
//    finishes the rename. The cleaned segment's indexes are rebuilt from it (log-loader.ts does
//    this for any segment whose index files are missing).
// So a SIGKILL at any moment leaves the partition with either all the old segments of a range or
// the one cleaned segment replacing them, never a mix and never neither.

import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Logger } from '../logger.js';
import { syncDirectory, writeDurably } from './durable-files.js';
import { parseSegmentFileName, segmentFileStem, segmentPaths } from './segment-files.js';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-checkpoint';
const CLEANED = /^(\d{20})\.log\.cleaned$/;
const SWAP = /^(\d{20})-(\d{20})\.log\.swap$/;

export function cleanedPath(dir: string, baseOffset: number): string {
  return join(dir, `${segmentFileStem(baseOffset)}.log.cleaned`);
}

export function swapPath(dir: string, baseOffset: number, endOffset: number): string {
  return join(dir, `${segmentFileStem(baseOffset)}-${segmentFileStem(endOffset)}.log.swap`);
}

/** Whether the log loader should pass over `name` silently (the cleaner's own files). */
export function isCleanerFileName(name: string): boolean {
  return name === CLEANER_CHECKPOINT_FILE || name === `${CLEANER_CHECKPOINT_FILE}.tmp` || CLEANED.test(name) || SWAP.test(name);
}

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Deletes a segment's three files, those that exist. */
export function unlinkSegmentFiles(dir: string, baseOffset: number): void {
  const paths = segmentPaths(dir, baseOffset);
  for (const path of [paths.index, paths.timeIndex, paths.log]) unlinkIfThere(path);
}

/**
 * Before the segments are listed: drops uncommitted `.cleaned` files and completes committed
 * `.swap`s (see the crash stance above). Returns what it did, for the recovery log.
 */
export function recoverCleanerFiles(dir: string, logger: Logger): { discarded: string[]; completed: string[] } {
  const discarded: string[] = [];
  const completed: string[] = [];
  const names = readdirSync(dir);
  for (const name of names) {
    if (CLEANED.test(name)) {
      unlinkSync(join(dir, name));
      discarded.push(name);
    }
  }
  for (const name of names) {
    const match = SWAP.exec(name);
    if (match === null) continue;
    const base = Number(match[1]);
    const end = Number(match[2]);
    for (const other of names) {
      const parsed = parseSegmentFileName(other);
      if (parsed !== null && parsed.baseOffset >= base && parsed.baseOffset < end) unlinkIfThere(join(dir, other));
    }
    renameSync(join(dir, name), segmentPaths(dir, base).log);
    completed.push(name);
  }
  if (discarded.length > 0 || completed.length > 0) {
    syncDirectory(dir);
    logger.warn({ dir, discarded, completed }, 'recovered an interrupted log cleaning');
  }
  return { discarded, completed };
}

/** Offset below which the log was cleaned by the last pass (0 when never cleaned or unreadable). */
export function readCleanerCheckpoint(dir: string, logger: Logger): number {
  const path = join(dir, CLEANER_CHECKPOINT_FILE);
  if (!existsSync(path)) return 0;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; firstDirtyOffset?: unknown };
    if (parsed.version === 1 && Number.isSafeInteger(parsed.firstDirtyOffset) && (parsed.firstDirtyOffset as number) >= 0) return parsed.firstDirtyOffset as number;
  } catch {
    // fall through: only a cost, the whole log counts as dirty again
  }
  logger.warn({ path }, 'unreadable cleaner checkpoint; the next pass cleans the whole log');
  return 0;
}

export function writeCleanerCheckpoint(dir: string, firstDirtyOffset: number): void {
  writeDurably(join(dir, CLEANER_CHECKPOINT_FILE), JSON.stringify({ version: 1, firstDirtyOffset }));
}
