// The two sparse indexes of a segment, each a file of fixed-size big-endian entries, sorted by
// both fields. Owner thread only.
//
//   .index      8 bytes: relativeOffset u32, position u32
//               "the batch whose base offset is segmentBase + relativeOffset starts at position"
//   .timeindex 12 bytes: timestamp i64, relativeOffset u32
//               "every record at or below segmentBase + relativeOffset has a timestamp <= timestamp"
//
// An entry is added when a batch starts at least index.interval.bytes (4 KiB) after the last
// indexed batch, so a lookup scans at most ~4 KiB of batch headers. The batch at position 0 is
// never indexed: a lookup with no entry at or below its target starts at 0.
//
// Neither file is checksummed. Which entries are valid is known from the partition checkpoint
// (entry counts, taken after the index was fsynced) or, for sealed segments, from the file length
// (sealed indexes are trimmed). Entries past that are ignored and rewritten by the recovery scan,
// and a missing or malformed index is rebuilt from its log, as Kafka does.

import { type FileIo } from '../native/index.js';
import { readInt64, readUint32, writeInt32, writeInt64 } from './bytes.js';
import { MappedFile } from './mapped-file.js';

abstract class EntryFile {
  protected readonly file: MappedFile;
  protected count: number;
  private readonly maxEntries: number;

  protected constructor(file: MappedFile, count: number, maxEntries: number) {
    this.file = file;
    this.count = count;
    this.maxEntries = maxEntries;
  }

  abstract readonly entrySize: number;

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  protected get bytes(): Uint8Array {
    return this.file.bytes;
  }

  /** Makes room for one more entry and returns where it goes; -1 when full (the entry is skipped). */
  protected slotForAppend(): number {
    if (!this.file.writable) throw new Error(`${this.file.path} is read-only`);
    if (this.isFull) return -1;
    const pos = this.count * this.entrySize;
    this.file.reserve(pos + this.entrySize);
    return pos;
  }

  /** Reserves file space for `n` more entries up front, so that appends after it cannot fail. */
  reserveEntries(n: number): void {
    if (!this.file.writable) return;
    const wanted = Math.min(this.count + n, this.maxEntries);
    this.file.reserve(wanted * this.entrySize);
  }

  /** Forgets entries from `count` on (they stay as bytes until overwritten or trimmed). */
  truncateEntries(count: number): void {
    this.count = Math.min(this.count, count);
  }

  /** Cuts the file to its valid entries (sealing). */
  trim(): void {
    this.file.truncate(this.count * this.entrySize);
  }

  syncAsync(): Promise<void> {
    return this.file.syncAsync();
  }

  sync(): void {
    this.file.sync();
  }

  close(): void {
    this.file.close();
  }

  /** Index of the last entry whose key is <= target, or -1. Keys increase strictly. */
  protected floor(target: number, keyAt: (i: number) => number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}

export const OFFSET_ENTRY_SIZE = 8;
export const TIME_ENTRY_SIZE = 12;

export class OffsetIndex extends EntryFile {
  readonly entrySize = OFFSET_ENTRY_SIZE;

  /** Opens for appending, keeping the first `count` entries. */
  static openWritable(io: FileIo, path: string, maxEntries: number, count: number): OffsetIndex {
    const file = MappedFile.openWritable(io, path, { capacity: maxEntries * OFFSET_ENTRY_SIZE, create: true });
    return new OffsetIndex(file, Math.min(count, Math.floor(file.allocated / OFFSET_ENTRY_SIZE)), maxEntries);
  }

  /** Opens a sealed (trimmed) index; every whole entry in the file counts. */
  static openReadOnly(io: FileIo, path: string): OffsetIndex {
    const file = MappedFile.openReadOnly(io, path);
    const count = Math.floor(file.allocated / OFFSET_ENTRY_SIZE);
    return new OffsetIndex(file, count, count);
  }

  relativeOffsetAt(i: number): number {
    return readUint32(this.bytes, i * OFFSET_ENTRY_SIZE);
  }

  positionAt(i: number): number {
    return readUint32(this.bytes, i * OFFSET_ENTRY_SIZE + 4);
  }

  append(relativeOffset: number, position: number): void {
    const pos = this.slotForAppend();
    if (pos < 0) return;
    writeInt32(this.bytes, pos, relativeOffset);
    writeInt32(this.bytes, pos + 4, position);
    this.count++;
  }

  /** Position of the last indexed batch starting at or below `relativeOffset`; 0 if none. */
  lookup(relativeOffset: number): number {
    const i = this.floor(relativeOffset, (k) => this.relativeOffsetAt(k));
    return i < 0 ? 0 : this.positionAt(i);
  }

  /** Position of the last entry, 0 when empty: the recovery scan's indexing continues from it. */
  lastPosition(): number {
    return this.count === 0 ? 0 : this.positionAt(this.count - 1);
  }

  /** Number of leading entries that point below `position`. */
  entriesBelow(position: number): number {
    return this.floor(position - 1, (k) => this.positionAt(k)) + 1;
  }

  /** Cheap sanity check: sorted by both fields, and pointing inside a log of `logSize` bytes. */
  isConsistent(logSize: number): boolean {
    let prevOffset = -1;
    let prevPosition = 0;
    for (let i = 0; i < this.count; i++) {
      const off = this.relativeOffsetAt(i);
      const p = this.positionAt(i);
      if (off <= prevOffset || p <= prevPosition || p >= logSize) return false;
      prevOffset = off;
      prevPosition = p;
    }
    return true;
  }
}

export class TimeIndex extends EntryFile {
  readonly entrySize = TIME_ENTRY_SIZE;

  static openWritable(io: FileIo, path: string, maxEntries: number, count: number): TimeIndex {
    const file = MappedFile.openWritable(io, path, { capacity: maxEntries * TIME_ENTRY_SIZE, create: true });
    return new TimeIndex(file, Math.min(count, Math.floor(file.allocated / TIME_ENTRY_SIZE)), maxEntries);
  }

  static openReadOnly(io: FileIo, path: string): TimeIndex {
    const file = MappedFile.openReadOnly(io, path);
    const count = Math.floor(file.allocated / TIME_ENTRY_SIZE);
    return new TimeIndex(file, count, count);
  }

  timestampAt(i: number): number {
    return readInt64(this.bytes, i * TIME_ENTRY_SIZE);
  }

  relativeOffsetAt(i: number): number {
    return readUint32(this.bytes, i * TIME_ENTRY_SIZE + 8);
  }

  /** Largest timestamp recorded, or -Infinity when empty. */
  lastTimestamp(): number {
    return this.count === 0 ? -Infinity : this.timestampAt(this.count - 1);
  }

  /** Appends if `timestamp` is larger than the last entry's (entries only ever increase). */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (timestamp <= this.lastTimestamp()) return;
    if (this.count > 0 && relativeOffset <= this.relativeOffsetAt(this.count - 1)) return;
    const pos = this.slotForAppend();
    if (pos < 0) return;
    writeInt64(this.bytes, pos, timestamp);
    writeInt32(this.bytes, pos + 8, relativeOffset);
    this.count++;
  }

  /**
   * The relative offset to start a search for the first record with timestamp >= target: one past
   * the last entry whose timestamp is below the target (everything up to it is earlier), else 0.
   */
  searchStart(target: number): number {
    const i = this.floor(target - 1, (k) => this.timestampAt(k));
    return i < 0 ? 0 : this.relativeOffsetAt(i) + 1;
  }

  /** Number of leading entries whose offset is below `relativeOffset`. */
  entriesBelow(relativeOffset: number): number {
    return this.floor(relativeOffset - 1, (k) => this.relativeOffsetAt(k)) + 1;
  }

  isConsistent(): boolean {
    let prevTs = -Infinity;
    let prevOffset = -1;
    for (let i = 0; i < this.count; i++) {
      const ts = this.timestampAt(i);
      const off = this.relativeOffsetAt(i);
      if (ts <= prevTs || off <= prevOffset) return false;
      prevTs = ts;
      prevOffset = off;
    }
    return true;
  }
}
