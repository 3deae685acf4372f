// Snapshots of a partition's producer state (producer-state.ts). Owner thread only.
//
//   <partition>/00000000000000001234.snapshot   the state of every producer after the batches
//                                                below offset 1234
//
// A snapshot is written when a segment rolls (at the new segment's base offset) and when the log
// closes cleanly (at its end). Opening a log restores the newest snapshot at or below the recovered
// log end and reads the batch headers from there on, so the scan after a crash is at most about one
// segment and none after a clean shutdown — the same bargain as Kafka's producer snapshots.
// A snapshot ABOVE the recovered end describes batches a crash took away: it is deleted, never
// trusted, or a retry of a lost batch would be answered as a duplicate and lost for good.
//
// Format: one line `rill-producer-snapshot 1 <crc32c of the rest, hex>` then JSON. Written with
// writeDurably (temporary file, fsync, rename), so a reader sees a whole snapshot or none.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../native/index.js';
import { writeDurably } from './durable-files.js';
import { segmentFileStem } from './segment-files.js';
import { type ProducerEntry, type ProducerStateTable } from './producer-state.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_FILE = /^(\d{20})\.snapshot$/;
const MAGIC = 'rill-producer-snapshot';
const VERSION = 1;
/** Snapshots kept: the newest and one before it, in case the newest ends above a crash's cut. */
export const SNAPSHOTS_KEPT = 2;

type StoredProducer = [producerId: number, epoch: number, lastSeen: number, batches: [number, number, number, number][]];

export function snapshotPath(dir: string, offset: number): string {
  return join(dir, segmentFileStem(offset) + SNAPSHOT_SUFFIX);
}

/** The offset a snapshot file name stands for, or null for any other name. */
export function parseSnapshotFileName(name: string): number | null {
  const match = SNAPSHOT_FILE.exec(name);
  if (match === null) return null;
  const offset = Number(match[1]);
  return Number.isSafeInteger(offset) ? offset : null;
}

/** A snapshot, or the temporary file of one a crash interrupted (deleteSnapshots removes those). */
export function isSnapshotFileName(name: string): boolean {
  return parseSnapshotFileName(name) !== null || (name.endsWith(`${SNAPSHOT_SUFFIX}.tmp`) && parseSnapshotFileName(name.slice(0, -4)) !== null);
}

/** Offsets of the snapshots in `dir`, oldest first. */
export function listSnapshots(dir: string): number[] {
  const offsets: number[] = [];
  for (const name of readdirSync(dir)) {
    const offset = parseSnapshotFileName(name);
    if (offset !== null) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}

/** Writes the table as the state below `offset` (durably: temp file, fsync, rename). */
export function writeSnapshot(dir: string, offset: number, table: ProducerStateTable): void {
  const producers: StoredProducer[] = [];
  for (const [producerId, entry] of table.entries()) {
    producers.push([producerId, entry.epoch, entry.lastSeen, entry.batches.map((b) => [b.firstSequence, b.lastSequence, b.baseOffset, b.lastOffset])]);
  }
  const body = JSON.stringify({ offset, producers });
  const bodyBytes = Buffer.from(body, 'utf8');
  const text = `${MAGIC} ${VERSION} ${crc32c(bodyBytes).toString(16)}\n${body}`;
  writeDurably(snapshotPath(dir, offset), text);
}

/**
 * Reads the snapshot at `offset` into `table` (which it clears first). Returns null on success, or
 * why the file cannot be used (the caller falls back to an older snapshot or a full scan).
 */
export function readSnapshot(dir: string, offset: number, table: ProducerStateTable): string | null {
  let text: string;
  try {
    text = readFileSync(snapshotPath(dir, offset), 'utf8');
  } catch (error) {
    return `unreadable: ${(error as Error).message}`;
  }
  const newline = text.indexOf('\n');
  const head = (newline < 0 ? text : text.slice(0, newline)).split(' ');
  if (newline < 0 || head.length !== 3 || head[0] !== MAGIC || head[1] !== String(VERSION)) return 'not a version 1 producer snapshot';
  const body = text.slice(newline + 1);
  if (crc32c(Buffer.from(body, 'utf8')).toString(16) !== head[2]) return 'CRC mismatch';
  let parsed: { offset: number; producers: StoredProducer[] };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return 'malformed JSON';
  }
  if (parsed.offset !== offset || !Array.isArray(parsed.producers)) return 'content does not match the file name';
  table.clear();
  for (const [producerId, epoch, lastSeen, batches] of parsed.producers) {
    const entry: ProducerEntry = {
      epoch,
      lastSeen,
      batches: batches.map(([firstSequence, lastSequence, baseOffset, lastOffset]) => ({ firstSequence, lastSequence, baseOffset, lastOffset })),
    };
    table.restore(producerId, entry);
  }
  return null;
}

/**
 * Deletes the snapshot files whose offsets `drop` selects (missing files are fine), and any
 * temporary snapshot file an interrupted write left behind.
 */
export function deleteSnapshots(dir: string, drop: (offset: number) => boolean): number {
  let deleted = 0;
  for (const name of readdirSync(dir)) {
    if (name.endsWith(`${SNAPSHOT_SUFFIX}.tmp`) && isSnapshotFileName(name)) rmSync(join(dir, name), { force: true });
  }
  for (const offset of listSnapshots(dir)) {
    if (!drop(offset)) continue;
    rmSync(snapshotPath(dir, offset), { force: true });
    deleted++;
  }
  return deleted;
}
