// The leader-epoch checkpoint file of one partition: which leader epoch began at which offset.
// Owner thread only (synchronous: written only when an epoch starts or the log is truncated).
//
// File `leader-epoch-checkpoint` in the partition directory, text as Kafka's file of that name:
//   line 1   version (0)
//   line 2   number of entries N
//   N lines  "<epoch> <startOffset>", epochs strictly rising, start offsets non-decreasing
//
// Crash stance: the file is replaced whole (write a temp file, fsync, rename, fsync the directory,
// see durable-files.ts), so a crash leaves the old or the new list, never a torn one. A file that
// is missing or does not parse is not trusted: the owner rebuilds the list from the batches'
// partitionLeaderEpoch fields (LeaderEpochCache.rebuild), which is what the file summarises.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurably } from './durable-files.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
const VERSION = 0;

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export function leaderEpochCheckpointPath(dir: string): string {
  return join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
}

/** Writes the entries durably (whole-file replacement). */
export function writeLeaderEpochCheckpoint(dir: string, entries: readonly EpochEntry[]): void {
  const lines = [String(VERSION), String(entries.length), ...entries.map((e) => `${e.epoch} ${e.startOffset}`)];
  writeDurably(leaderEpochCheckpointPath(dir), lines.join('\n') + '\n');
}

/**
 * The entries of the file, or a reason it cannot be used ('missing', or what is wrong with it).
 * Never throws for bad content: the caller rebuilds instead.
 */
export function readLeaderEpochCheckpoint(dir: string): EpochEntry[] | { problem: string } {
  const path = leaderEpochCheckpointPath(dir);
  if (!existsSync(path)) return { problem: 'missing' };
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== String(VERSION)) return { problem: `version line is ${JSON.stringify(lines[0])}, expected ${VERSION}` };
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count < 0 || lines.length !== count + 2) {
    return { problem: `says ${lines[1]} entries but holds ${Math.max(0, lines.length - 2)} lines` };
  }
  const entries: EpochEntry[] = [];
  for (let i = 0; i < count; i++) {
    const m = /^(\d+) (\d+)$/.exec(lines[i + 2]);
    if (m === null) return { problem: `line ${i + 3} is not "<epoch> <startOffset>"` };
    const entry = { epoch: Number(m[1]), startOffset: Number(m[2]) };
    const prev = entries[entries.length - 1];
    if (!Number.isSafeInteger(entry.epoch) || !Number.isSafeInteger(entry.startOffset)) return { problem: `line ${i + 3} overflows` };
    if (prev !== undefined && (entry.epoch <= prev.epoch || entry.startOffset < prev.startOffset)) {
      return { problem: `line ${i + 3} does not follow epoch ${prev.epoch} at ${prev.startOffset}` };
    }
    entries.push(entry);
  }
  return entries;
}
