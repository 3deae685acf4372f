// The two sparse indexes of one segment, kept together with the rule for adding entries and the
// segment's largest timestamp. Owner thread only.
//
// The rule (identical on append, on recovery and on rebuild, so the files come out the same):
// a batch starting at `position` > 0 gets an offset index entry when it starts at least
// index.interval.bytes after the last indexed batch; with it, a time index entry recording the
// largest timestamp so far, if that grew. Sealing (and a clean close) adds a final time entry so
// that the last entry's timestamp is the segment's largest.

import { type FileIo } from '../native/index.js';
import { type SegmentPaths } from './segment-files.js';
import { OffsetIndex, TimeIndex } from './sparse-index.js';

export interface IndexState {
  offsetIndexEntries: number;
  timeIndexEntries: number;
  /** Largest record timestamp, -Infinity when none. */
  maxTimestamp: number;
}

export const NO_INDEX_ENTRIES: IndexState = Object.freeze({ offsetIndexEntries: 0, timeIndexEntries: 0, maxTimestamp: -Infinity });

/** Each clean close may add a final time entry: headroom for them in the time index. */
const FINAL_ENTRY_HEADROOM = 64;

export class SegmentIndexes {
  readonly offsets: OffsetIndex;
  readonly times: TimeIndex;
  private readonly baseOffset: number;
  private readonly intervalBytes: number;
  /** Largest record timestamp in the segment so far, -Infinity when none. */
  maxTimestamp: number;
  private lastIndexedPosition: number;

  private constructor(offsets: OffsetIndex, times: TimeIndex, baseOffset: number, intervalBytes: number, maxTimestamp: number) {
    this.offsets = offsets;
    this.times = times;
    this.baseOffset = baseOffset;
    this.intervalBytes = intervalBytes;
    this.maxTimestamp = maxTimestamp;
    this.lastIndexedPosition = offsets.lastPosition();
  }

  /** Opens (creating if missing) both files for appending, keeping the entries `state` counts. */
  static openWritable(io: FileIo, paths: SegmentPaths, baseOffset: number, intervalBytes: number, maxEntries: number, state: IndexState): SegmentIndexes {
    const offsets = OffsetIndex.openWritable(io, paths.index, maxEntries, state.offsetIndexEntries);
    try {
      const times = TimeIndex.openWritable(io, paths.timeIndex, maxEntries + FINAL_ENTRY_HEADROOM, state.timeIndexEntries);
      return new SegmentIndexes(offsets, times, baseOffset, intervalBytes, state.maxTimestamp);
    } catch (error) {
      offsets.close();
      throw error;
    }
  }

  /** Opens the trimmed files of a sealed segment; the largest timestamp is the last time entry's. */
  static openReadOnly(io: FileIo, paths: SegmentPaths, baseOffset: number, intervalBytes: number): SegmentIndexes {
    const offsets = OffsetIndex.openReadOnly(io, paths.index);
    try {
      const times = TimeIndex.openReadOnly(io, paths.timeIndex);
      return new SegmentIndexes(offsets, times, baseOffset, intervalBytes, times.lastTimestamp());
    } catch (error) {
      offsets.close();
      throw error;
    }
  }

  get state(): IndexState {
    return { offsetIndexEntries: this.offsets.entries, timeIndexEntries: this.times.entries, maxTimestamp: this.maxTimestamp };
  }

  /** Reserves room for the entries `batches` more batches may add, so that tracking cannot fail. */
  reserve(batches: number): void {
    this.offsets.reserveEntries(batches);
    this.times.reserveEntries(batches);
  }

  /** Applies the indexing rule to the batch at `position` (after reserve()). */
  track(position: number, baseOffset: number, lastOffset: number, batchMaxTimestamp: number): void {
    if (batchMaxTimestamp > this.maxTimestamp) this.maxTimestamp = batchMaxTimestamp;
    if (position > 0 && position - this.lastIndexedPosition >= this.intervalBytes) {
      this.offsets.append(baseOffset - this.baseOffset, position);
      this.times.maybeAppend(this.maxTimestamp, lastOffset - this.baseOffset);
      this.lastIndexedPosition = position;
    }
  }

  /** The final time entry of a segment ending at `lastOffset`; the one step here that needs space. */
  finish(lastOffset: number): void {
    if (this.maxTimestamp === -Infinity) return;
    this.times.reserveEntries(1);
    this.times.maybeAppend(this.maxTimestamp, lastOffset - this.baseOffset);
  }

  /**
   * Drops the entries at or beyond a cut at `position` / `nextOffset`. The largest timestamp falls
   * back to what the time index covers; returns the position from which the caller must feed the
   * remaining batches' timestamps to noteTimestamp().
   */
  truncate(position: number, nextOffset: number): number {
    this.offsets.truncateEntries(this.offsets.entriesBelow(position));
    this.times.truncateEntries(this.times.entriesBelow(nextOffset - this.baseOffset));
    this.lastIndexedPosition = this.offsets.lastPosition();
    this.maxTimestamp = this.times.lastTimestamp();
    const covered = this.times.entries === 0 ? 0 : this.times.relativeOffsetAt(this.times.entries - 1) + 1;
    return this.offsets.lookup(covered);
  }

  noteTimestamp(timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }

  /** Position of the last indexed batch at or below `offset`; 0 if none. */
  positionFor(offset: number): number {
    return this.offsets.lookup(Math.max(0, offset - this.baseOffset));
  }

  /** Where to start looking for the first record with a timestamp >= `timestamp`. */
  searchStartFor(timestamp: number): number {
    return this.baseOffset + this.times.searchStart(timestamp);
  }

  isConsistent(logSize: number): boolean {
    return this.offsets.isConsistent(logSize) && this.times.isConsistent();
  }

  trim(): void {
    this.offsets.trim();
    this.times.trim();
  }

  sync(): void {
    this.offsets.sync();
    this.times.sync();
  }

  async syncAsync(): Promise<void> {
    await Promise.all([this.offsets.syncAsync(), this.times.syncAsync()]);
  }

  close(): void {
    this.offsets.close();
    this.times.close();
  }
}
